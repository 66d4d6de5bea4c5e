package dev.jquant.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What all vocabulary-based tokenizers share: splitting out special tokens, BOS/EOS framing,
 * token bytes for decoding and the stop set. Subclasses supply the algorithm for raw text.
 */
public abstract sealed class BaseTokenizer implements Tokenizer permits SpmTokenizer, BpeTokenizer, WordPieceTokenizer {
    /** Token texts llama.cpp treats as end of generation wherever they appear in a vocabulary. */
    private static final List<String> END_OF_GENERATION = List.of("<|eot_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
            "<|return|>", "<|call|>", "<｜end▁of▁sentence｜>");

    protected final Vocabulary vocab;
    private final SpecialIds ids;
    private final SpecialTokens specials;
    private final Set<Integer> stopTokens;

    BaseTokenizer(Vocabulary vocab, SpecialIds ids) {
        this.vocab = vocab;
        this.ids = ids;
        Set<Integer> stops = new LinkedHashSet<>();
        for (int id : new int[] {ids.eos(), ids.eot(), ids.eom()}) {
            if (id >= 0) {
                stops.add(id);
            }
        }
        for (String text : END_OF_GENERATION) {
            int id = vocab.id(text);
            if (id >= 0) {
                stops.add(id);
                // llama.cpp makes such tokens controls, so they are never printed nor split without parse-special
                vocab.setType(id, TokenType.CONTROL);
            }
        }
        this.stopTokens = Collections.unmodifiableSet(stops);
        this.specials = new SpecialTokens(vocab);
    }

    /**
     * Encodes one stretch of text that holds no special token. {@code afterSpecial}: it starts the
     * input or follows a special token; {@code atStart}: it starts the input.
     */
    abstract void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out);

    /** The bytes of a {@link TokenType#NORMAL} piece. */
    abstract byte[] normalBytes(String piece);

    /** Whether decoding drops the space a SentencePiece encoder put in front of the text. */
    boolean stripsLeadingSpace() {
        return false;
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /**
     * With {@code addBos}, the model's framing: BOS first, and for models that declare it (BERT's
     * [SEP], add_eos_token) the closing token last.
     */
    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        boolean close = addBos && (ids.addEos() || ids.addSep());
        return encode(text, addBos, close, parseSpecial);
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean addEos, boolean parseSpecial) {
        IntList out = new IntList();
        if (addBos && ids.bos() >= 0) {
            out.add(ids.bos());
        }
        boolean afterSpecial = true;
        for (SpecialTokens.Fragment f : specials.split(text, parseSpecial)) {
            if (f.isText()) {
                encodeText(text.substring(f.start(), f.end()), afterSpecial, f.start() == 0, out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        int closing = ids.addSep() && ids.sep() >= 0 ? ids.sep() : ids.eos();
        if (addEos && closing >= 0) {
            out.add(closing);
        }
        return out.toArray();
    }

    @Override
    public byte[] tokenBytes(int id) {
        String piece = vocab.piece(id);
        return switch (vocab.type(id)) {
            case NORMAL -> normalBytes(piece);
            case USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
            case BYTE -> new byte[] {(byte) byteValue(piece)};
            case CONTROL, UNKNOWN, UNUSED, UNDEFINED -> new byte[0];
        };
    }

    @Override
    public byte[] tokenBytes(int prevId, int id) {
        byte[] bytes = tokenBytes(id);
        if (stripsLeadingSpace() && (prevId < 0 || prevId == ids.bos()) && bytes.length > 0 && bytes[0] == ' ') {
            return java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return bytes;
    }

    /** Concatenated token bytes; a SentencePiece text loses the space its encoder added in front. */
    @Override
    public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = -1;
        for (int id : tokens) {
            out.writeBytes(tokenBytes(prev, id));
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The byte of a {@code <0xXX>} piece, or -1 if the piece is not one. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** The {@code <0xXX>} token for each byte, -1 where the vocabulary lacks it. */
    static int[] byteFallbackIds(Vocabulary vocab) {
        int[] out = new int[256];
        for (int b = 0; b < 256; b++) {
            out[b] = vocab.id(String.format("<0x%02X>", b));
        }
        return out;
    }

    @Override
    public String piece(int id) {
        return vocab.piece(id);
    }

    public TokenType tokenType(int id) {
        return vocab.type(id);
    }

    @Override
    public int bos() {
        return ids.bos();
    }

    @Override
    public int eos() {
        return ids.eos();
    }

    /** The unknown-token id, or -1. */
    public int unk() {
        return ids.unk();
    }

    @Override
    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    @Override
    public boolean addBosByDefault() {
        return ids.addBos() && ids.bos() >= 0;
    }

    SpecialIds specialIds() {
        return ids;
    }
}
