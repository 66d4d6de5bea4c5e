package dev.jquant.io.hf;

import dev.jquant.io.AtomicFile;

import dev.jquant.JQuantException;
import dev.jquant.format.BF16;
import dev.jquant.format.F16;
import dev.jquant.format.F32;
import dev.jquant.format.Format;
import dev.jquant.io.safetensors.SafetensorsShards;
import dev.jquant.io.safetensors.SafetensorsWriter;
import dev.jquant.model.Checkpoint;
import dev.jquant.tokenizer.HfTokenizerJson;
import dev.jquant.tokenizer.SpmTokenizer;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.ModelShapes;
import dev.jquant.model.RopePermutation;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.TensorNames;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link Checkpoint} as a Hugging Face model directory that transformers loads as is:
 * config.json, model.safetensors (or numbered shards plus model.safetensors.index.json when over
 * the shard limit) in one float dtype, generation_config.json and the chat template. Checkpoints
 * whose RoPE pairs adjacent elements (GGUF "llama", llama2.c) get their q/k rows put back into
 * Hugging Face's half-split order. config.json is written last, so an interrupted write leaves
 * nothing that loads.
 */
public final class HfCheckpointWriter {
    /** transformers' default max_shard_size ("5GB"). */
    public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;
    private static final String LLAMA3_FREQS = "rope_freqs.weight";
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer.model", "vocab.json",
            "merges.txt", "special_tokens_map.json", "added_tokens.json");

    private HfCheckpointWriter() {
    }

    public static void write(Checkpoint c, Path dir, Format dtype) {
        write(c, dir, dtype, DEFAULT_SHARD_BYTES);
    }

    public static void write(Checkpoint c, Path dir, Format dtype, long maxShardBytes) {
        if (!(dtype instanceof F32 || dtype instanceof F16 || dtype instanceof BF16)) {
            throw new JQuantException("Hugging Face checkpoints are written as F32, F16 or BF16, not " + dtype.name());
        }
        ModelConfig config = c.config();
        ModelShapes.check(c.source(), config, c.tensors());
        checkNothingIsLost(c);
        Map<String, Object> configJson = HfConfig.toJson(config, dtype, bosId(c), eosIds(c));
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(HfCheckpointLoader.CONFIG)); // the directory loads again only when complete
            writeWeights(c, dir, dtype, maxShardBytes);
            writeGenerationConfig(c, dir);
            writeTokenizerConfig(c, dir);
            copyTokenizerFiles(c, dir);
            writeAtomically(dir.resolve(HfCheckpointLoader.CONFIG), HfConfig.JSON.writeValueAsString(configJson));
        } catch (IOException e) {
            throw new JQuantException(dir + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Tensors beyond what the config calls for would be silently dropped: refuse instead. */
    private static void checkNothingIsLost(Checkpoint c) {
        Map<String, long[]> expected = ModelShapes.expected(c.config());
        for (String name : c.tensors().keySet()) {
            if (expected.containsKey(name) || name.equals(TensorNames.OUTPUT)) {
                continue; // a stored copy of a tied output is redundant
            }
            if (name.equals(LLAMA3_FREQS) && c.config().ropeScaling() != null) {
                continue; // config.json's rope_scaling says the same
            }
            throw new JQuantException(c.source() + ": tensor " + name + " has no Hugging Face equivalent"
                    + (name.equals(LLAMA3_FREQS) ? " (RoPE frequency factors without a rope scaling config)" : ""));
        }
    }

    private record Planned(String hfName, Tensor tensor, int[] rowOrder, long bytes) {
    }

    private static void writeWeights(Checkpoint c, Path dir, Format dtype, long maxShardBytes) throws IOException {
        List<List<Planned>> shards = new ArrayList<>();
        List<Planned> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (String name : ModelShapes.expected(c.config()).keySet()) {
            Tensor t = c.tensor(name);
            long bytes = Tensor.byteSize(dtype, t.shape());
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(new Planned(HfTensorNames.toHf(name), t, halfSplitOrder(c.config(), name), bytes));
            currentBytes += bytes;
            total += bytes;
        }
        shards.add(current);

        Path index = dir.resolve(SafetensorsShards.INDEX_FILE);
        Path single = dir.resolve(SafetensorsShards.SINGLE_FILE);
        if (shards.size() == 1) {
            Files.deleteIfExists(index); // a stale index would win over the new file
            shardWriter(shards.getFirst(), dtype).write(single);
            return;
        }
        Files.deleteIfExists(single);
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            shardWriter(shards.get(i), dtype).write(dir.resolve(file));
            shards.get(i).forEach(p -> weightMap.put(p.hfName(), file));
        }
        Map<String, Object> indexJson = new LinkedHashMap<>();
        indexJson.put("metadata", Map.of("total_size", total));
        indexJson.put("weight_map", weightMap);
        writeAtomically(index, HfConfig.JSON.writeValueAsString(indexJson));
    }

    private static SafetensorsWriter shardWriter(List<Planned> tensors, Format dtype) {
        // transformers refuses safetensors files whose metadata lacks format=pt
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        for (Planned p : tensors) {
            w.addPermutedRows(p.hfName(), p.tensor(), dtype, p.rowOrder());
        }
        return w;
    }

    /** For adjacent-pair checkpoints, the source row of each Hugging Face q/k row; null when rows stay put. */
    private static int[] halfSplitOrder(ModelConfig c, String name) {
        int heads = RopePermutation.rotatedHeads(c, name);
        if (c.ropeStyle() != RopeStyle.ADJACENT_PAIRS || heads == 0) {
            return null;
        }
        return RopePermutation.halfSplitFromAdjacent(heads, c.headDim());
    }

    /** The source's generation_config.json when it came from one (sampling defaults included), else bos/eos. */
    private static void writeGenerationConfig(Checkpoint c, Path dir) throws IOException {
        Map<String, Object> g = copyOf(c.metadata().get("hf.generation_config"));
        Integer bos = bosId(c);
        List<Integer> eos = eosIds(c);
        if (bos != null) {
            g.putIfAbsent("bos_token_id", bos);
        }
        if (!eos.isEmpty()) {
            g.putIfAbsent("eos_token_id", eos.size() == 1 ? eos.getFirst() : eos);
        }
        if (!g.isEmpty()) {
            writeAtomically(dir.resolve(HfCheckpointLoader.GENERATION_CONFIG), HfConfig.JSON.writeValueAsString(g));
        }
    }

    private static void writeTokenizerConfig(Checkpoint c, Path dir) throws IOException {
        Map<String, Object> t = copyOf(c.metadata().get("hf.tokenizer_config"));
        if (c.chatTemplate() != null) {
            t.put("chat_template", c.chatTemplate());
        }
        if (!t.isEmpty()) {
            writeAtomically(dir.resolve(HfCheckpointLoader.TOKENIZER_CONFIG), HfConfig.JSON.writeValueAsString(t));
        }
    }

    /**
     * A checkpoint read from a Hugging Face directory keeps its tokenizer files as they were; a
     * SentencePiece vocabulary from elsewhere (GGUF, llama2.c) becomes a Llama-2-style tokenizer.json.
     */
    private static void copyTokenizerFiles(Checkpoint c, Path dir) throws IOException {
        if (!c.sourceFormat().equals("safetensors") || !Files.isDirectory(c.source())) {
            if (c.tokenizer() instanceof SpmTokenizer spm) {
                HfTokenizerJson.write(spm, dir.resolve("tokenizer.json"));
            }
            return;
        }
        if (Files.isSameFile(c.source(), dir)) {
            return;
        }
        for (String name : TOKENIZER_FILES) {
            Path from = c.source().resolve(name);
            if (Files.isRegularFile(from)) {
                Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static Map<String, Object> copyOf(Object map) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (map instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), v));
        }
        return out;
    }

    /** From the tokenizer when there is one, else from the metadata a loader left. */
    private static Integer bosId(Checkpoint c) {
        if (c.tokenizer() != null) {
            return c.tokenizer().bos() >= 0 ? c.tokenizer().bos() : null;
        }
        Object v = c.metadata().getOrDefault("bos_token_id", c.metadata().get("tokenizer.ggml.bos_token_id"));
        return v instanceof Number n ? n.intValue() : null;
    }

    private static List<Integer> eosIds(Checkpoint c) {
        if (c.tokenizer() != null) {
            return c.tokenizer().eos() >= 0 ? List.of(c.tokenizer().eos()) : List.of();
        }
        if (c.metadata().get("eos_token_ids") instanceof List<?> ids) {
            return ids.stream().map(id -> ((Number) id).intValue()).toList();
        }
        Object v = c.metadata().get("tokenizer.ggml.eos_token_id");
        return v instanceof Number n ? List.of(n.intValue()) : List.of();
    }

    private static void writeAtomically(Path file, String text) {
        AtomicFile.writeString(file, text + "\n");
    }
}
