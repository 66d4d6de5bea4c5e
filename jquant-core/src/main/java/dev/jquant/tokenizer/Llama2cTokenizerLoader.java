package dev.jquant.tokenizer;

import dev.jquant.JQuantException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama2.c's tokenizer.bin: int32 max token length, then per token a float32 score, an
 * int32 byte length and the UTF-8 bytes. Pieces there use real spaces and "\n<s>\n"/"\n</s>\n"
 * for BOS/EOS; they are turned back into SentencePiece form so the SPM tokenizer runs unchanged.
 */
final class Llama2cTokenizerLoader {
    private Llama2cTokenizerLoader() {
    }

    static SpmTokenizer load(Path file, int vocabSize) {
        if (vocabSize <= 0) {
            throw new JQuantException(file + ": vocabulary size must be positive, got " + vocabSize);
        }
        ByteBuffer in;
        try {
            in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new JQuantException(file + ": cannot read llama2.c tokenizer: " + e.getMessage(), e);
        }
        if (in.remaining() < 4) {
            throw new JQuantException(file + ": truncated llama2.c tokenizer (no header)");
        }
        int maxTokenLength = in.getInt();
        if (maxTokenLength <= 0 || maxTokenLength > (1 << 16)) {
            throw new JQuantException(file + ": max token length " + maxTokenLength + " is impossible; not a llama2.c tokenizer?");
        }
        List<String> pieces = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        TokenType[] types = new TokenType[vocabSize];
        int bos = -1;
        int eos = -1;
        var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        for (int i = 0; i < vocabSize; i++) {
            if (in.remaining() < 8) {
                throw new JQuantException(file + ": truncated at token " + i + " of " + vocabSize);
            }
            scores[i] = in.getFloat();
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw new JQuantException(file + ": token " + i + " claims " + len + " bytes but "
                        + in.remaining() + " remain (truncated or corrupt)");
            }
            String text;
            try {
                text = utf8.decode(in.slice(in.position(), len)).toString();
            } catch (CharacterCodingException e) {
                throw new JQuantException(file + ": token " + i + " is not valid UTF-8");
            }
            in.position(in.position() + len);
            switch (text) {
                case "\n<s>\n" -> {
                    text = "<s>";
                    types[i] = TokenType.CONTROL;
                    bos = i;
                }
                case "\n</s>\n" -> {
                    text = "</s>";
                    types[i] = TokenType.CONTROL;
                    eos = i;
                }
                case "<unk>" -> types[i] = TokenType.UNKNOWN;
                default -> types[i] = BaseTokenizer.byteValue(text) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
            }
            pieces.add(text.replace(' ', SpmTokenizer.SPACE));
        }
        Vocabulary vocab = new Vocabulary(file.toString(), pieces, scores, types);
        int unk = vocab.id("<unk>");
        return new SpmTokenizer(vocab, new SpecialIds(bos, eos, unk, -1, -1, -1, true, false, false), true);
    }
}
