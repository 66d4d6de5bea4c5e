package dev.jquant.quantize.feedback;

import dev.jquant.JQuantException;
import dev.jquant.format.IntFormat;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Session;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.w8a8.W8A8;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantization with feedback: block by block, starting from round-to-nearest, refine every
 * group's scale and zero point (and, with {@code refineRounding}, single codes) of the block's
 * linear weights, each pass lowering the squared error each layer causes on its calibration inputs
 * ({@link RowQuantizer}); after every pass the whole block is run and its output compared with the
 * full-precision model's hidden states, and passes stop when that block output error stops
 * improving (the best pass is kept). Each block is fed the outputs of the already-quantized blocks
 * before it, so it also learns to compensate their error.
 *
 * @param maxPasses upper bound on refinement passes per block
 */
public record Feedback(IntFormat format, boolean refineRounding, int maxPasses) {

    /** Per block: index, passes run, block output error (mean squared) after RTN and after refinement. */
    @FunctionalInterface
    public interface Listener {
        void block(int layer, int passes, double rtnError, double refinedError);
    }

    public Feedback {
        if (format.symmetric()) {
            throw new JQuantException("feedback refines zero points: give an asymmetric format, not " + format.name());
        }
        if (maxPasses < 1) {
            throw new JQuantException("feedback needs at least one pass");
        }
    }

    public Map<String, Tensor> quantize(Checkpoint model, List<int[]> calibration, Arena arena, Listener listener) {
        int layers = model.config().layers();
        int dim = model.config().dim();
        Transformer fp = new Transformer(model);
        int longest = calibration.stream().mapToInt(s -> s.length).max().orElseThrow();
        // full-precision hidden states after every block, and the quantized trajectory's current ones
        List<float[][]> target = new ArrayList<>();
        List<float[]> hidden = new ArrayList<>();
        Session fpSession = fp.newSession(longest);
        for (int[] seq : calibration) {
            float[] x = fpSession.embed(seq);
            hidden.add(x.clone());
            float[][] perBlock = new float[layers][];
            for (int l = 0; l < layers; l++) {
                fpSession.forwardBlock(l, x, seq.length);
                perBlock[l] = x.clone();
            }
            target.add(perBlock);
        }
        Map<String, Tensor> done = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            Checkpoint current = model.withTensors(done);
            Map<String, double[][]> gram = gram(current, l, calibration, hidden);
            Map<String, RowQuantizer[]> rows = new LinkedHashMap<>();
            for (String suffix : W8A8.LINEARS) {
                Tensor w = model.tensor(TensorNames.block(l, suffix));
                float[] values = w.toFloats();
                RowQuantizer[] rq = new RowQuantizer[w.rows()];
                for (int r = 0; r < rq.length; r++) {
                    rq[r] = new RowQuantizer(format, java.util.Arrays.copyOfRange(values, r * w.cols(), (r + 1) * w.cols()),
                            gram.get(suffix));
                }
                rows.put(w.name(), rq);
            }
            Map<String, Tensor> best = encode(model, rows, arena);
            double rtnError = blockError(current.withTensors(best), l, calibration, hidden, target);
            double bestError = rtnError;
            int passes = 0;
            while (passes < maxPasses) {
                passes++;
                boolean changed = false;
                for (RowQuantizer[] rq : rows.values()) {
                    for (RowQuantizer r : rq) {
                        changed |= r.refineScales();
                        if (refineRounding) {
                            changed |= r.refineRounding();
                        }
                    }
                }
                if (!changed) {
                    break;
                }
                Map<String, Tensor> candidate = encode(model, rows, arena);
                double error = blockError(current.withTensors(candidate), l, calibration, hidden, target);
                if (error >= bestError) {
                    break;
                }
                bestError = error;
                best = candidate;
            }
            done.putAll(best);
            advance(model.withTensors(done), l, calibration, hidden);
            if (listener != null) {
                listener.block(l, passes, rtnError, bestError);
            }
        }
        return done;
    }

    /** Gram matrices XᵀX of the inputs of block {@code l}'s linear layers, fed the quantized trajectory. */
    private static Map<String, double[][]> gram(Checkpoint current, int l, List<int[]> calibration, List<float[]> hidden) {
        Map<String, double[][]> gram = new HashMap<>();
        Session s = new Transformer(current).newSession(calibration.stream().mapToInt(q -> q.length).max().orElseThrow());
        s.observeLinearInputs((layer, tensor, input, tokens) -> {
            int cols = current.tensor(TensorNames.block(layer, tensor)).cols();
            double[][] g = gram.computeIfAbsent(tensor, k -> new double[cols][cols]);
            for (int t = 0; t < tokens; t++) {
                int o = t * cols;
                for (int i = 0; i < cols; i++) {
                    double xi = input[o + i];
                    if (xi == 0) {
                        continue;
                    }
                    for (int j = 0; j < cols; j++) {
                        g[i][j] += xi * input[o + j];
                    }
                }
            }
        });
        for (int i = 0; i < calibration.size(); i++) {
            s.rewind(0);
            s.forwardBlock(l, hidden.get(i).clone(), calibration.get(i).length);
        }
        return gram;
    }

    /** Mean squared difference between block l's output (on the quantized trajectory) and the full-precision one. */
    private static double blockError(Checkpoint candidate, int l, List<int[]> calibration, List<float[]> hidden,
                                     List<float[][]> target) {
        Session s = new Transformer(candidate).newSession(calibration.stream().mapToInt(q -> q.length).max().orElseThrow());
        double sum = 0;
        long n = 0;
        for (int i = 0; i < calibration.size(); i++) {
            float[] x = hidden.get(i).clone();
            s.rewind(0);
            s.forwardBlock(l, x, calibration.get(i).length);
            float[] want = target.get(i)[l];
            for (int k = 0; k < x.length; k++) {
                double d = x[k] - want[k];
                sum += d * d;
            }
            n += x.length;
        }
        return sum / n;
    }

    /** Moves the quantized trajectory past block l. */
    private static void advance(Checkpoint quantized, int l, List<int[]> calibration, List<float[]> hidden) {
        Session s = new Transformer(quantized).newSession(calibration.stream().mapToInt(q -> q.length).max().orElseThrow());
        for (int i = 0; i < calibration.size(); i++) {
            s.rewind(0);
            s.forwardBlock(l, hidden.get(i), calibration.get(i).length);
        }
    }

    private Map<String, Tensor> encode(Checkpoint model, Map<String, RowQuantizer[]> rows, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        rows.forEach((name, rq) -> {
            Tensor w = model.tensor(name);
            long rowBytes = format.rowBytes(w.cols());
            MemorySegment seg = arena.allocate(rowBytes * w.rows(), 64);
            for (int r = 0; r < rq.length; r++) {
                format.encode(rq[r].dequantized(), 0, w.cols(), rq[r].scales, rq[r].zeros, seg, r * rowBytes);
            }
            out.put(name, new Tensor(name, format, w.shape(), seg));
        });
        return out;
    }
}
