package dev.jquant.eval.compare;

import dev.jquant.model.Session;
import dev.jquant.model.TensorNames;
import dev.jquant.model.Transformer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records what flows into each linear layer of the full-precision model on calibration text: the
 * largest |x| of every input channel (outlier channels are what SmoothQuant and AWQ act on) and a
 * sample of input rows, from which {@link LayerErrors} measures how much quantization changes each
 * layer's output.
 */
public final class ActivationProbe {

    /**
     * @param tensor        the matrix this input feeds (q/k/v share attn_q's input, gate/up share ffn_gate's)
     * @param channelAbsMax per input channel, max |x| over all calibration tokens
     * @param sample        up to the requested number of input rows, spread over the text
     */
    public record Site(String tensor, int layer, int width, float[] channelAbsMax, float[][] sample) {
    }

    private ActivationProbe() {
    }

    private static final java.util.Set<String> SHARED_INPUTS = java.util.Set.of(TensorNames.ATTN_K, TensorNames.ATTN_V,
            TensorNames.FFN_UP);

    /** Runs {@code chunks} chunks of {@code ctx} tokens (first token set to BOS) through the model. */
    public static Map<String, Site> run(Transformer model, int[] tokens, int ctx, int chunks, int bos, int sampleRows) {
        int available = Math.min(chunks, tokens.length / ctx);
        if (available == 0) {
            throw new dev.jquant.JQuantException("the calibration text has " + tokens.length
                    + " tokens, fewer than one chunk of " + ctx);
        }
        int stride = Math.max(1, available * ctx / Math.max(1, sampleRows));
        Map<String, Accumulator> sites = new LinkedHashMap<>();
        Session session = model.newSession(ctx);
        session.observeLinearInputs((layer, suffix, x, n) -> {
            if (SHARED_INPUTS.contains(suffix)) {
                return; // the same array as attn_q's or ffn_gate's: one site per distinct input
            }
            String tensor = TensorNames.block(layer, suffix);
            sites.computeIfAbsent(tensor, t -> new Accumulator(layer, model.checkpoint().tensor(t).cols()))
                    .add(x, n, stride, sampleRows);
        });
        for (int c = 0; c < available; c++) {
            int[] chunk = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            session.rewind(0);
            session.forward(chunk, ctx - 1);
        }
        Map<String, Site> out = new LinkedHashMap<>();
        sites.forEach((tensor, a) -> out.put(tensor, new Site(tensor, a.layer, a.max.length, a.max,
                a.rows.toArray(float[][]::new))));
        return out;
    }

    /** Running per-channel maxima and every {@code stride}-th row of one site. */
    private static final class Accumulator {
        final int layer;
        final float[] max;
        final List<float[]> rows = new ArrayList<>();
        long tokens;

        Accumulator(int layer, int width) {
            this.layer = layer;
            this.max = new float[width];
        }

        void add(float[] x, int n, int stride, int sampleRows) {
            int width = max.length;
            for (int t = 0; t < n; t++, tokens++) {
                for (int i = 0; i < width; i++) {
                    max[i] = Math.max(max[i], Math.abs(x[t * width + i]));
                }
                if (tokens % stride == 0 && rows.size() < sampleRows) {
                    rows.add(Arrays.copyOfRange(x, t * width, (t + 1) * width));
                }
            }
        }
    }

    /** The input site whose rows a tensor multiplies, or null (embeddings, output). */
    public static String siteOf(String tensor) {
        for (String[] pair : new String[][] {{TensorNames.ATTN_K, TensorNames.ATTN_Q}, {TensorNames.ATTN_V, TensorNames.ATTN_Q},
                {TensorNames.FFN_UP, TensorNames.FFN_GATE}}) {
            if (tensor.endsWith("." + pair[0])) {
                return tensor.substring(0, tensor.length() - pair[0].length()) + pair[1];
            }
        }
        for (String own : new String[] {TensorNames.ATTN_Q, TensorNames.ATTN_OUTPUT, TensorNames.FFN_GATE, TensorNames.FFN_DOWN}) {
            if (tensor.endsWith("." + own)) {
                return tensor;
            }
        }
        return null;
    }
}
