package dev.jquant.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns tokens into text as a model generates them. A character split over several tokens (byte
 * fallback, byte-level BPE) is held back until its last byte arrives, and the space a
 * SentencePiece encoder put after BOS is dropped, so the pieces concatenate to
 * {@link Tokenizer#decode}'s text. Not thread-safe: one stream per generation.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private int previous = -1;

    public TextStream(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text that {@code id} completes; empty while a character is still incomplete. */
    public String push(int id) {
        pending.writeBytes(tokenizer.tokenBytes(previous, id));
        previous = id;
        byte[] bytes = pending.toByteArray();
        int complete = completePrefix(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Whatever is held back (an incomplete character becomes U+FFFD), and a fresh start. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        previous = -1;
        return rest;
    }

    /** Length of the longest prefix that does not end inside a UTF-8 sequence. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        int lead = n - 1;
        // step back over at most three continuation bytes to the start of the last sequence
        while (lead >= 0 && n - lead <= 3 && (b[lead] & 0xC0) == 0x80) {
            lead--;
        }
        if (lead < 0) {
            return n;
        }
        int v = b[lead] & 0xFF;
        int expected = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
        return n - lead < expected ? lead : n;
    }
}
