package dev.jquant.cli;

import dev.jquant.eval.MemoryBandwidth;
import dev.jquant.eval.SpeedBenchmark;
import dev.jquant.io.LargePages;
import dev.jquant.kernel.Parallel;
import dev.jquant.model.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Prefill and decode tokens/s (like llama-bench's pp512/tg128), peak memory and weight GB/s.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    EngineOptions engine;

    @Option(names = "--prompt-tokens", defaultValue = "512", description = "prefill batch (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128", description = "decode steps (default: ${DEFAULT-VALUE})")
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", description = "measured runs after one warm-up (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "--no-bandwidth",
            description = "skip measuring the machine's read bandwidth (done with the same threads, after the runs)")
    boolean skipBandwidth;

    @Option(names = "--json", description = "print one JSON object with prefill_tps, decode_tps, peak_rss_bytes, ...")
    boolean json;

    @Override
    public Integer call() {
        try (Checkpoint c = modelOptions.load()) {
            SpeedBenchmark.Result r = SpeedBenchmark.run(engine.transformer(c), promptTokens, genTokens, repetitions,
                    Parallel.get().threads());
            long hugePageBytes = LargePages.residentBytes();
            // After the runs, so its 512 MiB buffer stays out of the model's peak RSS.
            boolean bandwidth = !skipBandwidth;
            double readGbps = bandwidth ? MemoryBandwidth.readGbPerSecond(512L << 20, 5) : Double.NaN;
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("model", c.source().toString());
                out.put("threads", r.threads());
                out.put("prompt_tokens", r.promptTokens());
                out.put("gen_tokens", r.genTokens());
                out.put("repetitions", r.repetitions());
                out.put("prefill_tps", r.prefillTps());
                out.put("prefill_tps_sd", r.prefillTpsSd());
                out.put("decode_tps", r.decodeTps());
                out.put("decode_tps_sd", r.decodeTpsSd());
                out.put("weight_bytes", r.weightBytes());
                out.put("decode_weight_gbps", r.decodeWeightGbPerSecond());
                if (bandwidth) {
                    out.put("read_bandwidth_gbps", readGbps);
                }
                out.put("kv_cache", engine.kvCache);
                out.put("kv_cache_bytes", r.kvCacheBytes());
                out.put("peak_rss_bytes", r.peakRssBytes());
                if (hugePageBytes >= 0) {
                    out.put("huge_page_bytes", hugePageBytes);
                }
                System.out.println(Json.write(out));
            } else {
                System.out.printf("model    %s (%,d weight bytes), %d threads%n", c.source(), r.weightBytes(), r.threads());
                System.out.printf("pp%-5d  %10.2f ± %.2f tokens/s%n", r.promptTokens(), r.prefillTps(), r.prefillTpsSd());
                System.out.printf("tg%-5d  %10.2f ± %.2f tokens/s   (%.2f GB/s of weights)%n", r.genTokens(), r.decodeTps(),
                        r.decodeTpsSd(), r.decodeWeightGbPerSecond());
                if (bandwidth) {
                    System.out.printf("memory   %.2f GB/s read with %d threads; decode streamed %.0f%% of it%n", readGbps,
                            r.threads(), 100 * r.decodeWeightGbPerSecond() / readGbps);
                }
                System.out.printf("KV cache %s, %,d bytes%n", engine.kvCache, r.kvCacheBytes());
                System.out.printf("peak RSS %,d bytes%n", r.peakRssBytes());
                if (hugePageBytes >= 0) {
                    System.out.printf("huge pages %,d bytes resident (the repacked weights, see README \"How the engine multiplies\")%n",
                            hugePageBytes);
                }
            }
        }
        return 0;
    }
}
