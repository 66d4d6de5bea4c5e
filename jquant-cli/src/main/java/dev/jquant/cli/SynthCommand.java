package dev.jquant.cli;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.SyntheticModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight model with a real architecture's dimensions (and a working byte-fallback vocabulary), for speed and scale tests.")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "tinyllama-1.1b, llama-3.2-1b, qwen2.5-0.5b, qwen3-0.6b, smollm-135m, or a small test flavour (llama3, llama-mqa, mistral, qwen2, qwen3)")
    String preset;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "F.gguf", description = "output file")
    Path out;

    @Option(names = "--format", defaultValue = "F16", description = "F32, F16 or BF16 (default: ${DEFAULT-VALUE}); quantize afterwards for other types")
    String format;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--layers", paramLabel = "N",
            description = "keep only the first N blocks (default: the architecture's count), e.g. one block at 1B dimensions for profiling")
    Integer layers;

    @Option(names = "--context", description = "context length to record (default: the architecture's, capped at 4096)")
    Integer context;

    @Override
    public Integer call() throws IOException {
        Format f = QuantizeCommand.parse(format, "--format");
        if (!f.name().equals("F32") && !f.name().equals("F16") && !f.name().equals("BF16")) {
            throw new JQuantException("--format: synth writes F32, F16 or BF16; use 'jquant quantize' for " + f.name());
        }
        ModelConfig config = SyntheticModels.preset(preset);
        if (layers != null) {
            if (layers < 1 || layers > config.layers()) {
                throw new JQuantException("--layers: must be between 1 and " + config.layers() + " for " + preset + ", got " + layers);
            }
            config = withLayers(config, layers);
        }
        config = config.withContextLength(context != null ? context : Math.min(config.contextLength(), 4096));
        long t0 = System.nanoTime();
        SyntheticModels.writeGguf(config, f, seed, out);
        System.out.printf("wrote %s: %s-shaped (dim %d, %d layers, vocab %d), %s, %,d bytes, %.1f s%n", out, preset,
                config.dim(), config.layers(), config.vocabSize(), f.name(), Files.size(out), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static ModelConfig withLayers(ModelConfig c, int layers) {
        return new ModelConfig(c.architecture(), c.dim(), c.ffnDim(), layers, c.heads(), c.kvHeads(), c.headDim(),
                c.vocabSize(), c.contextLength(), c.rmsEps(), c.ropeTheta(), c.ropeStyle(), c.ropeScaling(),
                c.attentionBias(), c.qkNorm(), c.tiedOutput());
    }
}
