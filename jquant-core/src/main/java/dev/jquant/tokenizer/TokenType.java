package dev.jquant.tokenizer;

/** The kind of a vocabulary entry, with the ids GGUF's {@code tokenizer.ggml.token_type} uses. */
public enum TokenType {
    UNDEFINED(0), NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    public final int ggufId;

    TokenType(int ggufId) {
        this.ggufId = ggufId;
    }

    /** The type for a GGUF id; unknown ids read as {@link #UNDEFINED}, as llama.cpp does. */
    public static TokenType fromGguf(int id) {
        return id >= 0 && id < values().length ? values()[id] : UNDEFINED;
    }

    /** Tokens split out of the text before the model's algorithm runs (controls only with parse-special). */
    boolean isSpecial() {
        return this == CONTROL || this == USER_DEFINED || this == UNKNOWN;
    }
}
