package dev.jquant.cli;

import dev.jquant.JQuant;
import dev.jquant.JQuantException;
import dev.jquant.eval.compare.CandidateCatalog;
import dev.jquant.eval.compare.Comparison;
import dev.jquant.model.Checkpoint;
import dev.jquant.train.corpus.StoryGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Compare quantization methods on the bundled model (or --model) in a few minutes: prints the "
                + "table and writes an HTML report.")
final class DemoCommand implements Callable<Integer> {
    /**
     * Methods and the bit widths the demo tries for each, sized to finish in well under three minutes
     * on two cores with stories260K. Methods not in this build are left out of the demo's table.
     */
    static final Map<String, List<Integer>> PLAN = new LinkedHashMap<>();

    static {
        PLAN.put("rtn", List.of(8, 4));
        PLAN.put("int", List.of(8, 6, 5, 4, 3));
        PLAN.put("nf4", List.of(4));
        PLAN.put("fp4", List.of(4));
        PLAN.put("mxfp4", List.of(4));
        PLAN.put("fp8", List.of(8));
        PLAN.put("gptq", List.of(4, 3));
        PLAN.put("awq", List.of(4, 3));
        PLAN.put("hqq", List.of(4, 3));
    }

    static final List<String> FORMATS = List.of("Q4_0", "IQ4_NL");

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "a GGUF model (default: the bundled model)")
    Path model;

    @Option(names = "--text", paramLabel = "FILE", description = "evaluation and calibration text, in disjoint chunks (default: held-out generated stories for the bundled model, TinyStories dev otherwise)")
    Path text;

    @Option(names = {"-o", "--out"}, defaultValue = "jquant-demo-out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--chunks", defaultValue = "16", description = "evaluation chunks of the model's context, at most 512 tokens (default: ${DEFAULT-VALUE})")
    int chunks;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        CompareCommand.setThreads(threads);
        Path root = repositoryRoot();
        Path data = root.resolve("../shared/data").normalize();
        Path modelPath = model != null ? model : defaultModel(root, data);
        Path textPath = text != null ? text : defaultText(modelPath, root, data);
        if (!Files.isRegularFile(textPath)) {
            throw new JQuantException("no evaluation text: " + textPath + " is missing; pass one with --text FILE");
        }
        int ctx;
        try (Checkpoint c = JQuant.load(modelPath)) {
            ctx = Math.min(512, c.config().contextLength()); // beyond its trained context a model says nothing useful
        }
        List<CandidateCatalog.Entry> entries = new ArrayList<>();
        PLAN.forEach((method, bits) -> entries.addAll(CandidateCatalog.resolve(List.of(method), bits, List.of())));
        entries.addAll(CandidateCatalog.resolve(List.of(), List.of(), FORMATS));
        entries.removeIf(e -> !(e instanceof CandidateCatalog.Planned));
        System.err.printf("jquant demo: %d configurations of %s, measured on %s%n", entries.size(), modelPath, textPath);
        Comparison.Options options = new Comparison.Options(ctx, chunks, 2, 128, 32, null, false, List.of(), null);
        CompareRunner.run(modelPath, textPath, textPath, out, entries, options);
        System.out.printf("%nThe same on your own model:  ./jquant demo --model PATH.gguf [--text FILE]%n"
                + "More methods and bit widths: ./jquant compare --help%n");
        return 0;
    }

    /**
     * The bundled model speaks only the generated stories it was trained on: it is measured on
     * stories from a seed its training never saw (the corpus was made with seed 1). Other models
     * are measured on TinyStories dev.
     */
    private Path defaultText(Path modelPath, Path root, Path data) {
        if (!modelPath.toAbsolutePath().normalize().equals(root.resolve(BUNDLED).toAbsolutePath().normalize())) {
            return data.resolve("tinystories/tinystories-dev.txt");
        }
        Path heldOut = out.resolve("held-out-stories.txt");
        try {
            Files.createDirectories(out);
        } catch (java.io.IOException e) {
            throw new JQuantException(out + ": cannot create: " + e.getMessage());
        }
        dev.jquant.io.AtomicFile.writeString(heldOut, StoryGenerator.corpus(400, 2));
        return heldOut;
    }

    static final String BUNDLED = "models/jq-stories.gguf";

    /** The bundled model when present, else stories260K from the shared data, else a clear error. */
    static Path defaultModel(Path root, Path data) {
        for (Path p : List.of(root.resolve(BUNDLED), data.resolve("stories260K/stories260K.gguf"))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new JQuantException("no bundled model yet, and " + data.resolve("stories260K/stories260K.gguf")
                + " is missing; run the demo on your own model: ./jquant demo --model PATH.gguf --text FILE");
    }

    /** The checkout this jar was built in (jquant-cli/target/jquant.jar), else the working directory. */
    static Path repositoryRoot() {
        try {
            Path jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = jar.getParent() != null && jar.getParent().getParent() != null ? jar.getParent().getParent().getParent() : null;
            if (root != null && Files.isRegularFile(root.resolve("jquant"))) {
                return root;
            }
        } catch (URISyntaxException | RuntimeException ignored) {
            // fall back to the working directory
        }
        return Path.of("").toAbsolutePath();
    }
}
