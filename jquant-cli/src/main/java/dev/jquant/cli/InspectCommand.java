package dev.jquant.cli;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.tensor.Tensor;
import dev.jquant.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Architecture, hyper-parameters, tokenizer and every tensor (shape, type, bytes) of a model.")
final class InspectCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        try (Checkpoint c = modelOptions.load()) {
            Map<String, Object> report = report(c);
            if (json) {
                System.out.println(Json.write(report));
            } else {
                print(c, report);
            }
        }
        return 0;
    }

    static Map<String, Object> report(Checkpoint c) {
        ModelConfig cfg = c.config();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("path", c.source().toString());
        out.put("source_format", c.sourceFormat());
        out.put("architecture", cfg.architecture());
        out.put("config", cfg);
        Tokenizer tok = c.tokenizer();
        if (tok != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("type", tok.getClass().getSimpleName());
            t.put("vocab_size", tok.vocabSize());
            t.put("bos", tok.bos());
            t.put("eos", tok.eos());
            out.put("tokenizer", t);
        }
        out.put("chat_template", c.chatTemplate() != null);
        List<Map<String, Object>> tensors = new ArrayList<>();
        Map<String, long[]> byType = new TreeMap<>();
        long params = 0;
        long bytes = 0;
        for (Tensor t : c.tensors().values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("shape", t.shape());
            e.put("type", t.format().name());
            e.put("bytes", t.byteSize());
            tensors.add(e);
            params += t.elementCount();
            bytes += t.byteSize();
            long[] agg = byType.computeIfAbsent(t.format().name(), k -> new long[3]);
            agg[0]++;
            agg[1] += t.elementCount();
            agg[2] += t.byteSize();
        }
        out.put("parameters", params);
        out.put("tensor_bytes", bytes);
        out.put("bits_per_weight", params == 0 ? 0 : 8.0 * bytes / params);
        Map<String, Object> types = new LinkedHashMap<>();
        byType.forEach((k, v) -> types.put(k, Map.of("tensors", v[0], "parameters", v[1], "bytes", v[2])));
        out.put("types", types);
        out.put("tensors", tensors);
        return out;
    }

    private static void print(Checkpoint c, Map<String, Object> r) {
        ModelConfig cfg = c.config();
        System.out.printf("model        %s (%s)%n", c.source(), c.sourceFormat());
        System.out.printf("architecture %s%n", cfg.architecture());
        System.out.printf("dims         dim %d, ffn %d, layers %d, heads %d, kv heads %d, head dim %d, vocab %d, context %d%n",
                cfg.dim(), cfg.ffnDim(), cfg.layers(), cfg.heads(), cfg.kvHeads(), cfg.headDim(), cfg.vocabSize(),
                cfg.contextLength());
        System.out.printf("rope         theta %s, %s%s%n", cfg.ropeTheta(), cfg.ropeStyle(),
                cfg.ropeScaling() != null ? ", scaling " + cfg.ropeScaling() : "");
        System.out.printf("norm         RMSNorm eps %s%s%s, output %s%n", cfg.rmsEps(), cfg.attentionBias() ? ", qkv bias" : "",
                cfg.qkNorm() ? ", QK-norm" : "", cfg.tiedOutput() ? "tied to embeddings" : "separate");
        Tokenizer tok = c.tokenizer();
        System.out.printf("tokenizer    %s%n", tok == null ? "none" : tok.getClass().getSimpleName() + ", "
                + tok.vocabSize() + " tokens, bos " + tok.bos() + ", eos " + tok.eos());
        System.out.printf("chat         %s%n", c.chatTemplate() != null ? "template present" : "no template");
        System.out.println();
        System.out.printf("%-40s %-22s %-8s %12s%n", "tensor", "shape", "type", "bytes");
        for (Tensor t : c.tensors().values()) {
            System.out.printf("%-40s %-22s %-8s %,12d%n", t.name(), java.util.Arrays.toString(t.shape()), t.format().name(),
                    t.byteSize());
        }
        System.out.println();
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Long>> types = (Map<String, Map<String, Long>>) r.get("types");
        types.forEach((k, v) -> System.out.printf("%-8s %4d tensors %,14d params %,14d bytes%n", k, v.get("tensors"),
                v.get("parameters"), v.get("bytes")));
        System.out.printf("total    %,d parameters, %,d bytes, %.3f bits per weight%n", (long) r.get("parameters"),
                (long) r.get("tensor_bytes"), (double) r.get("bits_per_weight"));
    }
}
