package dev.jquant.io.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jquant.JQuantException;
import dev.jquant.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors weights of a Hugging Face model directory: either one {@code model.safetensors}
 * or the shards that {@code model.safetensors.index.json} maps each tensor to.
 */
public final class SafetensorsShards implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private SafetensorsShards(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.byTensor = Collections.unmodifiableMap(byTensor);
    }

    public static SafetensorsShards open(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openIndexed(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.isRegularFile(single) && Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
            throw new JQuantException(dir + ": only PyTorch pickle weights (pytorch_model.bin) are there; jquant reads"
                    + " safetensors (convert them first)");
        }
        if (!Files.isRegularFile(single)) {
            throw new JQuantException(dir + ": neither " + SINGLE_FILE + " nor " + INDEX_FILE + " is there");
        }
        SafetensorsFile file = SafetensorsFile.open(single);
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        file.entries().keySet().forEach(name -> byTensor.put(name, file));
        return new SafetensorsShards(dir, List.of(file), byTensor);
    }

    private static SafetensorsShards openIndexed(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (var e : weightMap.entrySet()) {
                String shard = e.getValue();
                SafetensorsFile file = opened.get(shard);
                if (file == null) {
                    Path path = dir.resolve(shard);
                    if (!Files.isRegularFile(path)) {
                        throw new JQuantException(index + ": shard " + shard + " (holding tensor " + e.getKey()
                                + ") is missing");
                    }
                    file = SafetensorsFile.open(path);
                    opened.put(shard, file);
                }
                if (!file.contains(e.getKey())) {
                    throw new JQuantException(index + ": tensor " + e.getKey() + " is mapped to " + shard
                            + ", which does not hold it");
                }
                byTensor.put(e.getKey(), file);
            }
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsShards(dir, new ArrayList<>(opened.values()), byTensor);
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readString(index));
        } catch (JacksonException e) {
            throw new JQuantException(index + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new JQuantException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new JQuantException(index + ": weight_map is missing or not an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : map.properties()) {
            String shard = e.getValue().asText("");
            // shards live beside the index: a path elsewhere is corrupt or hostile
            if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\")
                    || shard.equals("..")) {
                throw new JQuantException(index + ": weight_map." + e.getKey() + ": '" + e.getValue().asText()
                        + "' is not a file name in this directory");
            }
            out.put(e.getKey(), shard);
        }
        return out;
    }

    /** Tensor names, in index (or file) order. */
    public Set<String> names() {
        return byTensor.keySet();
    }

    public Tensor tensor(String name) {
        SafetensorsFile file = byTensor.get(name);
        if (file == null) {
            throw new JQuantException(dir + ": tensor " + name + " is in none of the safetensors files");
        }
        return file.tensor(name);
    }

    public SafetensorsEntry entry(String name) {
        SafetensorsFile file = byTensor.get(name);
        return file == null ? null : file.entries().get(name);
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
