package dev.jquant.tokenizer;

import dev.jquant.io.AtomicFile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jquant.JQuantException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Writes a SentencePiece vocabulary as a Llama-2-style Hugging Face tokenizer.json: a BPE model
 * with byte fallback, the Prepend/Replace normalizer, control and user-defined tokens as added
 * tokens, and merges derived from the pieces and scores the way HF's SentencePiece converter does
 * (every split of a piece into two pieces, highest-scoring result first).
 */
public final class HfTokenizerJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfTokenizerJson() {
    }

    /** Writes {@code spmTokenizer} (a SentencePiece tokenizer) to {@code tokenizerJson}, atomically. */
    public static void write(Tokenizer spmTokenizer, Path tokenizerJson) {
        if (!(spmTokenizer instanceof SpmTokenizer spm)) {
            throw new JQuantException(tokenizerJson + ": only SentencePiece vocabularies can be written as a Llama-2-style "
                    + "tokenizer.json, not " + spmTokenizer.getClass().getSimpleName());
        }
        Vocabulary vocab = spm.vocabulary();
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens(vocab));
        root.set("normalizer", normalizer(spm.addSpacePrefix()));
        root.putNull("pre_tokenizer");
        root.set("post_processor", postProcessor(spm));
        root.set("decoder", decoder(spm.addSpacePrefix()));
        root.set("model", model(spm));
        writeAtomically(root, tokenizerJson);
    }

    private static ArrayNode addedTokens(Vocabulary vocab) {
        ArrayNode added = JSON.createArrayNode();
        for (int id = 0; id < vocab.size(); id++) {
            TokenType type = vocab.type(id);
            if (type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.USER_DEFINED) {
                ObjectNode t = added.addObject();
                t.put("id", id);
                t.put("content", vocab.piece(id));
                t.put("single_word", false);
                t.put("lstrip", vocab.lstrip(id));
                t.put("rstrip", vocab.rstrip(id));
                t.put("normalized", false);
                t.put("special", type != TokenType.USER_DEFINED);
            }
        }
        return added;
    }

    private static ObjectNode normalizer(boolean prefix) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "Sequence");
        ArrayNode list = n.putArray("normalizers");
        if (prefix) {
            list.addObject().put("type", "Prepend").put("prepend", String.valueOf(SpmTokenizer.SPACE));
        }
        ObjectNode replace = list.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", String.valueOf(SpmTokenizer.SPACE));
        return n;
    }

    private static ObjectNode postProcessor(SpmTokenizer spm) {
        ObjectNode p = JSON.createObjectNode();
        p.put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        ArrayNode pair = p.putArray("pair");
        ObjectNode specials = JSON.createObjectNode();
        if (spm.addBosByDefault()) {
            String bos = spm.piece(spm.bos());
            single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            ObjectNode s = specials.putObject(bos);
            s.put("id", bos);
            s.putArray("ids").add(spm.bos());
            s.putArray("tokens").add(bos);
        }
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        p.set("special_tokens", specials);
        return p;
    }

    private static ObjectNode decoder(boolean prefix) {
        ObjectNode d = JSON.createObjectNode();
        d.put("type", "Sequence");
        ArrayNode list = d.putArray("decoders");
        ObjectNode replace = list.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", String.valueOf(SpmTokenizer.SPACE));
        replace.put("content", " ");
        list.addObject().put("type", "ByteFallback");
        list.addObject().put("type", "Fuse");
        if (prefix) {
            list.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
        return d;
    }

    private static ObjectNode model(SpmTokenizer spm) {
        Vocabulary vocab = spm.vocabulary();
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "BPE");
        m.putNull("dropout");
        if (spm.unk() >= 0) {
            m.put("unk_token", vocab.piece(spm.unk()));
        } else {
            m.putNull("unk_token");
        }
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", true);
        m.put("byte_fallback", true);
        m.put("ignore_merges", false);
        ObjectNode v = m.putObject("vocab");
        for (int id = 0; id < vocab.size(); id++) {
            v.put(vocab.piece(id), id);
        }
        ArrayNode merges = m.putArray("merges");
        for (int[] merge : merges(vocab)) {
            merges.addArray().add(vocab.piece(merge[0])).add(vocab.piece(merge[1]));
        }
        return m;
    }

    /** (left, right, result) triples: by the result's score, highest first, then result id, then left and right ids. */
    static List<int[]> merges(Vocabulary vocab) {
        List<int[]> out = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            String piece = vocab.piece(id);
            for (int k = piece.offsetByCodePoints(0, 1); k < piece.length(); k = piece.offsetByCodePoints(k, 1)) {
                int left = vocab.id(piece.substring(0, k));
                int right = left < 0 ? -1 : vocab.id(piece.substring(k));
                if (right >= 0) {
                    out.add(new int[] {left, right, id});
                }
            }
        }
        out.sort(Comparator.<int[]>comparingDouble(m -> -vocab.score(m[2]))
                .thenComparingInt(m -> m[2]).thenComparingInt(m -> m[0]).thenComparingInt(m -> m[1]));
        return out;
    }

    private static void writeAtomically(ObjectNode root, Path target) {
        AtomicFile.write(target, out -> out.write(JSON.writeValueAsBytes(root)));
    }
}
