/**
 * Tokenizers, bit-exact with llama.cpp (and so with Hugging Face tokenizers) on llama.cpp's test
 * vectors.
 *
 * <ul>
 *   <li>Loading: {@link dev.jquant.tokenizer.Tokenizers#fromGguf}, {@link dev.jquant.tokenizer.Tokenizers#fromHfDirectory},
 *       {@link dev.jquant.tokenizer.Tokenizers#fromVocabAndMerges}, {@link dev.jquant.tokenizer.Tokenizers#fromLlama2c},
 *       {@link dev.jquant.tokenizer.Tokenizers#fromLlama3Tiktoken}.</li>
 *   <li>Algorithms: {@link dev.jquant.tokenizer.SpmTokenizer} (SentencePiece BPE, GGUF "llama"),
 *       {@link dev.jquant.tokenizer.BpeTokenizer} (byte-level BPE with llama.cpp's pre-tokenizers, GGUF "gpt2";
 *       also Llama-2-style tokenizer.json), {@link dev.jquant.tokenizer.WordPieceTokenizer} (BERT, GGUF "bert").
 *       All share {@link dev.jquant.tokenizer.BaseTokenizer}: special tokens, BOS/EOS framing, decoding, stop set.</li>
 *   <li>{@link dev.jquant.tokenizer.ChatTemplate} renders a model's own Jinja chat template;
 *       {@link dev.jquant.tokenizer.HfTokenizerJson} writes a SentencePiece vocabulary as tokenizer.json.</li>
 * </ul>
 */
package dev.jquant.tokenizer;
