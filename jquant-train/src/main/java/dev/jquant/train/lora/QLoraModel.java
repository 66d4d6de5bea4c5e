package dev.jquant.train.lora;

import dev.jquant.JQuantException;
import dev.jquant.format.Format;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.LoraAdapter;
import dev.jquant.model.LoraTarget;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.TensorNames;
import dev.jquant.quantize.BlockFallback;
import dev.jquant.tensor.Tensor;
import dev.jquant.tensor.TensorConverter;
import dev.jquant.train.LinearLayer;
import dev.jquant.train.Parameters;
import dev.jquant.train.TrainingModel;

import java.lang.foreign.Arena;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A model set up for QLoRA (Dettmers et al. 2023): every linear weight of every block quantized to the
 * base format and frozen (kept as those bytes, decoded per product), the embeddings, output and norms
 * frozen in F32 (as QLoRA leaves them in 16 bits), and LoRA factors on the target layers, the only
 * trainable parameters: A Kaiming-uniform (PEFT's default, bound 1/sqrt(in)) from the seed, B zero,
 * so training starts from the quantized base's own output.
 */
public final class QLoraModel implements AutoCloseable {
    /** Linear weights of a block, every one quantized whether it is adapted or not. */
    private static final List<String> LINEARS = List.of(TensorNames.ATTN_Q, TensorNames.ATTN_K, TensorNames.ATTN_V,
            TensorNames.ATTN_OUTPUT, TensorNames.FFN_GATE, TensorNames.FFN_UP, TensorNames.FFN_DOWN);

    /** What the adapters are and what the base is stored as. */
    public record Settings(Format baseFormat, int rank, float alpha, float dropout, Set<LoraTarget> targets, long seed) {
        public Settings {
            if (rank < 1) {
                throw new JQuantException("--lora-rank must be at least 1, got " + rank);
            }
            if (!(alpha > 0) || !Float.isFinite(alpha)) {
                throw new JQuantException("--lora-alpha must be a positive number, got " + alpha);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new JQuantException("--lora-dropout must be in [0, 1), got " + dropout);
            }
            if (targets.isEmpty()) {
                throw new JQuantException("no LoRA target modules given");
            }
            targets = Set.copyOf(targets);
        }
    }

    /**
     * Bytes the training state occupies (activations aside, which full fine-tuning needs alike).
     *
     * @param baseQuantized the quantized linear weights
     * @param frozenF32     embeddings, output and norms
     * @param scratch       the shared decode buffer (one matrix of floats)
     * @param fullFineTune  what full fine-tuning keeps: F32 weights, gradients and two Adam moments, 16 bytes a parameter
     */
    public record Memory(long baseQuantized, long frozenF32, long adapters, long gradients, long optimizer, long scratch,
                         long fullFineTune) {
        public long total() {
            return baseQuantized + frozenF32 + adapters + gradients + optimizer + scratch;
        }
    }

    private final Arena arena;
    private final ModelConfig config;
    private final Settings settings;
    private final Parameters frozen;
    private final Parameters adapters;
    private final Map<String, Tensor> base;
    private final Map<String, LoraLinear> lora;
    private final QuantizedLinear.Scratch scratch;
    private final TrainingModel model;

    private QLoraModel(Arena arena, ModelConfig config, Settings settings, Parameters frozen, Parameters adapters,
                       Map<String, Tensor> base, Map<String, LoraLinear> lora, QuantizedLinear.Scratch scratch,
                       Map<String, LinearLayer> layers) {
        this.arena = arena;
        this.config = config;
        this.settings = settings;
        this.frozen = frozen;
        this.adapters = adapters;
        this.base = base;
        this.lora = lora;
        this.scratch = scratch;
        this.model = new TrainingModel(config, layers);
    }

    /** Quantizes {@code source}'s linear weights (from whatever they are stored in) and sets up the adapters. */
    public static QLoraModel build(Checkpoint source, Settings s) {
        ModelConfig c = source.config();
        Arena arena = Arena.ofShared();
        try {
            Parameters frozen = Parameters.fromCheckpoint(source, name -> !isLinear(name));
            QuantizedLinear.Scratch scratch = new QuantizedLinear.Scratch();
            Map<String, Tensor> base = new LinkedHashMap<>();
            Map<String, LinearLayer> layers = new LinkedHashMap<>();
            Map<String, LoraLinear> lora = new LinkedHashMap<>();
            Map<String, float[]> factors = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            Random init = new Random(s.seed());
            for (int l = 0; l < c.layers(); l++) {
                for (String suffix : LINEARS) {
                    String name = TensorNames.block(l, suffix);
                    Tensor original = source.tensor(name);
                    Tensor q = TensorConverter.convert(original, BlockFallback.forColumns(s.baseFormat(), original.cols()), arena);
                    base.put(name, q);
                    QuantizedLinear frozenLayer = new QuantizedLinear(q, scratch);
                    layers.put(name, frozenLayer);
                }
                for (LoraTarget t : EnumSet.copyOf(s.targets())) {
                    String name = t.weightName(l);
                    int[] shape = t.shape(c);
                    String a = aName(name);
                    String b = bName(name);
                    float[] av = new float[s.rank() * shape[1]];
                    double bound = 1 / Math.sqrt(shape[1]);
                    for (int i = 0; i < av.length; i++) {
                        av[i] = (float) ((2 * init.nextDouble() - 1) * bound);
                    }
                    factors.put(a, av);
                    shapes.put(a, new long[] {s.rank(), shape[1]});
                    factors.put(b, new float[shape[0] * s.rank()]);
                    shapes.put(b, new long[] {shape[0], s.rank()});
                    LoraLinear layer = new LoraLinear(layers.get(name), a, b, s.rank(), shape[1], shape[0], s.alpha() / s.rank(),
                            s.dropout(), s.seed() * 31 + name.hashCode());
                    layers.put(name, layer);
                    lora.put(name, layer);
                }
            }
            return new QLoraModel(arena, c, s, frozen, Parameters.of(c, factors, shapes), base, lora, scratch, layers);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static boolean isLinear(String name) {
        return name.startsWith("blk.") && LINEARS.stream().anyMatch(name::endsWith);
    }

    static String aName(String weight) {
        return TensorNames.companion(weight, "lora_a");
    }

    static String bName(String weight) {
        return TensorNames.companion(weight, "lora_b");
    }

    public ModelConfig config() {
        return config;
    }

    public TrainingModel model() {
        return model;
    }

    /** The trainable LoRA factors (A and B of every target), updated in place by training. */
    public Parameters adapters() {
        return adapters;
    }

    /** What the forward pass reads: the frozen F32 tensors and the adapters, shared. */
    public Parameters weights() {
        return frozen.with(adapters);
    }

    /** The quantized base weights, by GGUF name. */
    public Map<String, Tensor> base() {
        return java.util.Collections.unmodifiableMap(base);
    }

    /** The frozen F32 tensors (embeddings, output, norms). */
    public Parameters frozen() {
        return frozen;
    }

    /** Restarts every adapter's dropout masks from {@code seed}. */
    public void reseed(long seed) {
        lora.values().forEach(l -> l.reseed(seed));
    }

    /** The adapters as they stand, for the runtime and PEFT files (copies). */
    public LoraAdapter adapter() {
        Map<String, LoraAdapter.Factors> f = new LinkedHashMap<>();
        for (String weight : lora.keySet()) {
            long[] shape = adapters.shape(bName(weight));
            f.put(weight, new LoraAdapter.Factors(adapters.get(aName(weight)).clone(), adapters.get(bName(weight)).clone(),
                    (int) adapters.shape(aName(weight))[1], (int) shape[0]));
        }
        return new LoraAdapter(settings.rank(), settings.alpha(), settings.dropout(), settings.targets(), f);
    }

    /** Parameters of the whole model (base, frozen and adapters). */
    public long totalParameters() {
        return base.values().stream().mapToLong(Tensor::elementCount).sum() + frozen.count() + adapters.count();
    }

    public Memory memory() {
        long baseBytes = base.values().stream().mapToLong(Tensor::byteSize).sum();
        long largest = base.values().stream().mapToLong(Tensor::elementCount).max().orElse(0);
        long adapterBytes = 4 * adapters.count();
        long modelParams = base.values().stream().mapToLong(Tensor::elementCount).sum() + frozen.count();
        return new Memory(baseBytes, 4 * frozen.count(), adapterBytes, adapterBytes, 2 * adapterBytes,
                Math.max(scratch.bytes(), 4 * largest), 16 * modelParams);
    }

    @Override
    public void close() {
        arena.close();
    }
}
