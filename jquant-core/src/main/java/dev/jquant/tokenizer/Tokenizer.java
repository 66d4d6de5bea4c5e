package dev.jquant.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Text to token ids and back. Implementations: SentencePiece-style BPE and byte-level BPE. */
public interface Tokenizer {

    int vocabSize();

    /**
     * Encodes {@code text}; {@code addBos} prepends the BOS id when the vocabulary has one.
     * With {@code parseSpecial}, special/added tokens written literally in the text (e.g.
     * {@code <|im_start|>}) become their ids; otherwise they are encoded as plain text.
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    default int[] encode(String text, boolean addBos) {
        return encode(text, addBos, false);
    }

    /** Like {@link #encode(String, boolean, boolean)} without the model's own framing; {@code addEos} appends EOS. */
    default int[] encode(String text, boolean addBos, boolean addEos, boolean parseSpecial) {
        int[] ids = encode(text, addBos, parseSpecial);
        if (!addEos || eos() < 0) {
            return ids;
        }
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos();
        return out;
    }

    /** The raw bytes a token stands for (byte-fallback tokens give their single byte; controls give none). */
    byte[] tokenBytes(int id);

    /**
     * The bytes {@code id} adds to a streamed text when it follows {@code prevId} (-1 at the start).
     * SentencePiece vocabularies drop the leading space of the piece right after BOS, as llama2.c does.
     */
    default byte[] tokenBytes(int prevId, int id) {
        return tokenBytes(id);
    }

    /** The vocabulary entry as stored (for inspection). */
    String piece(int id);

    default String decode(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** BOS id, or -1 when there is none. */
    int bos();

    /** EOS id, or -1 when there is none. */
    int eos();

    /** Ids that end generation: EOS plus end-of-turn tokens such as {@code <|eot_id|>}. */
    Set<Integer> stopTokens();

    /** Whether {@link #encode(String, boolean)} should prepend BOS by default for this model. */
    default boolean addBosByDefault() {
        return bos() >= 0;
    }
}
