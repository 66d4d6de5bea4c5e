package dev.jquant.tokenizer;

import dev.jquant.io.gguf.GgufFile;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the right {@link Tokenizer} from what a checkpoint carries. */
public final class Tokenizers {
    /** Llama 3's first special id; its 256 special tokens follow the 128,000 ranked ones. */
    public static final int LLAMA3_FIRST_SPECIAL = 128_000;

    private Tokenizers() {
    }

    /** From GGUF metadata (tokenizer.ggml.model, .tokens, .scores, .token_type, .merges, .pre, special ids). */
    public static Tokenizer fromGguf(GgufFile gguf) {
        return GgufTokenizerLoader.load(gguf);
    }

    /** From a Hugging Face model directory: tokenizer.json, or vocab.json + merges.txt, plus tokenizer_config.json. */
    public static Tokenizer fromHfDirectory(Path dir) {
        return HfTokenizerLoader.load(dir);
    }

    /**
     * From GPT-2-style vocab.json (or encoder.json) and merges.txt (or vocab.bpe), with the
     * pre-tokenizer named as GGUF's tokenizer.ggml.pre names it ("gpt-2", "llama-bpe", "qwen2", ...).
     */
    public static Tokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt, String preTokenizer) {
        return HfTokenizerLoader.fromVocabAndMerges(vocabJson, mergesTxt, preTokenizer,
                HfTokenizerLoader.readJsonIfPresent(vocabJson.resolveSibling("tokenizer_config.json")));
    }

    /** From a llama2.c tokenizer.bin (max token length, then score + length + bytes per token). */
    public static Tokenizer fromLlama2c(Path tokenizerBin, int vocabSize) {
        return Llama2cTokenizerLoader.load(tokenizerBin, vocabSize);
    }

    /**
     * From a tiktoken ranks file with the given special tokens (text to id, ids right after the
     * ranked tokens), the Llama 3 pre-tokenizer and BOS/EOS named by {@code bos}/{@code eos}.
     */
    public static Tokenizer fromTiktoken(Path ranks, Map<String, Integer> specials, String bos, String eos) {
        return TiktokenLoader.load(ranks, specials, PreTokenizer.forName("llama3"), vocab -> new SpecialIds(vocab.id(bos),
                vocab.id(eos), -1, -1, vocab.id("<|eot_id|>"), vocab.id("<|eom_id|>"), true, false, false));
    }

    /** Llama 3's tokenizer.model with its 256 special tokens (Llama 3.1 names). */
    public static Tokenizer fromLlama3Tiktoken(Path tokenizerModel) {
        return fromTiktoken(tokenizerModel, llama3Specials(), "<|begin_of_text|>", "<|end_of_text|>");
    }

    /** Llama 3.1's special tokens, ids 128000..128255. */
    public static Map<String, Integer> llama3Specials() {
        String[] named = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i++) {
            out.put(named[i], LLAMA3_FIRST_SPECIAL + i);
        }
        for (int i = named.length; i < 256; i++) {
            out.put("<|reserved_special_token_" + (i - named.length + 3) + "|>", LLAMA3_FIRST_SPECIAL + i);
        }
        return out;
    }
}
