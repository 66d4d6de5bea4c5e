package dev.jquant.eval;

import dev.jquant.generate.Sampler;
import dev.jquant.JQuantException;
import dev.jquant.MemoryStats;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;

import java.util.Random;

/**
 * Prefill and decode speed as llama-bench measures them (pp512 / tg128): prefill processes a
 * prompt of random tokens in one batch; decode generates tokens one at a time after a one-token
 * prompt. Each repetition uses a fresh KV cache; the first (warm-up) run is discarded.
 */
public final class SpeedBenchmark {

    /**
     * @param prefillTps         prompt tokens per second, mean over repetitions
     * @param decodeTps          generated tokens per second, mean over repetitions
     * @param weightBytes        bytes of the weights a decode step reads ({@link Transformer#decodeBytesPerToken()})
     * @param kvCacheBytes       bytes of the KV cache of one session (prompt or generated tokens, whichever is longer)
     * @param peakRssBytes       the process's peak resident memory (Linux VmHWM), or -1 when unknown
     */
    public record Result(int promptTokens, int genTokens, int repetitions, double prefillTps, double prefillTpsSd,
                         double decodeTps, double decodeTpsSd, long weightBytes, long kvCacheBytes, long peakRssBytes,
                         int threads) {

        /** Weight bytes streamed per second while decoding: how close decode is to memory bandwidth. */
        public double decodeWeightGbPerSecond() {
            return weightBytes * decodeTps / 1e9;
        }
    }

    private SpeedBenchmark() {
    }

    public static Result run(Transformer model, int promptTokens, int genTokens, int repetitions, int threads) {
        if (promptTokens < 1 || genTokens < 1 || repetitions < 1) {
            throw new JQuantException("--prompt-tokens, --gen-tokens and --repetitions must be at least 1");
        }
        int vocab = model.config().vocabSize();
        if (promptTokens > model.config().contextLength() || genTokens + 1 > model.config().contextLength()) {
            throw new JQuantException("the model's context (" + model.config().contextLength() + ") is shorter than "
                    + "the benchmark's " + promptTokens + " prompt / " + genTokens + " generated tokens");
        }
        Random rnd = new Random(1234);
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < promptTokens; i++) {
            prompt[i] = rnd.nextInt(vocab);
        }
        double[] pp = new double[repetitions];
        double[] tg = new double[repetitions];
        long kvCacheBytes = 0;
        for (int rep = -1; rep < repetitions; rep++) {
            Session s = model.newSession(Math.max(promptTokens, genTokens + 1));
            kvCacheBytes = s.kvCacheBytes();
            long t0 = System.nanoTime();
            s.prefillLast(prompt);
            long t1 = System.nanoTime();
            s.rewind(0);
            int token = prompt[0];
            s.forward(token);
            long t2 = System.nanoTime();
            for (int i = 0; i < genTokens; i++) {
                float[] logits = s.forward(token);
                token = Sampler.argmax(logits);
            }
            long t3 = System.nanoTime();
            if (rep >= 0) {
                pp[rep] = promptTokens * 1e9 / (t1 - t0);
                tg[rep] = genTokens * 1e9 / (t3 - t2);
            }
        }
        long weights = model.decodeBytesPerToken();
        return new Result(promptTokens, genTokens, repetitions, mean(pp), sd(pp), mean(tg), sd(tg), weights, kvCacheBytes,
                MemoryStats.peakRssBytes(), threads);
    }


    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double sd(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }
}
