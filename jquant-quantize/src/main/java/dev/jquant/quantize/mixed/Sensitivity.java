package dev.jquant.quantize.mixed;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.quantize.OutputDivergence;
import dev.jquant.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

/**
 * The sensitivity table: the model's output KL divergence from the full-precision model on
 * calibration sequences when exactly one tensor is quantized with one setting and everything else
 * is left alone. Its sum over tensors predicts the KL of a mix (errors of small perturbations add).
 *
 * @param kl    {@code kl[tensor][setting]}
 * @param bytes {@code bytes[tensor][setting]}
 */
public record Sensitivity(List<String> tensors, List<Setting> settings, double[][] kl, long[][] bytes) {

    /** Called after each measurement: done, total, tensor, setting, KL. */
    @FunctionalInterface
    public interface Listener {
        void measured(int done, int total, String tensor, Setting setting, double kl);
    }

    public static Sensitivity measure(Checkpoint model, List<String> tensors, List<Setting> settings,
                                      OutputDivergence.Reference reference, Setting.Hessians hessians,
                                      Listener listener) {
        double[][] kl = new double[tensors.size()][settings.size()];
        long[][] bytes = new long[tensors.size()][settings.size()];
        int done = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = model.tensor(tensors.get(i));
            for (int j = 0; j < settings.size(); j++) {
                Setting s = settings.get(j);
                try (Arena arena = Arena.ofShared()) {
                    Checkpoint one = model.withTensors(Map.of(t.name(), s.apply(t, arena, hessians)));
                    kl[i][j] = Math.max(0, OutputDivergence.measure(reference, new Transformer(one)).meanKl());
                }
                bytes[i][j] = s.bytes(t);
                if (listener != null) {
                    listener.measured(++done, tensors.size() * settings.size(), t.name(), s, kl[i][j]);
                }
            }
        }
        return new Sensitivity(List.copyOf(tensors), List.copyOf(settings), kl, bytes);
    }

    /** Predicted KL of a mix: the sum of each tensor's own KL at its chosen setting. */
    public double predictedKl(int[] choice) {
        double sum = 0;
        for (int i = 0; i < choice.length; i++) {
            sum += kl[i][choice[i]];
        }
        return sum;
    }

    public long bytes(int[] choice) {
        long sum = 0;
        for (int i = 0; i < choice.length; i++) {
            sum += bytes[i][choice[i]];
        }
        return sum;
    }
}
