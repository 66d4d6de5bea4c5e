package dev.jquant.generate;

import dev.jquant.JQuantException;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;
import dev.jquant.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.function.Consumer;

/** Turns a prompt into a continuation: prefill, then sample and decode one token at a time, streaming text. */
public final class Generator {
    private final Transformer model;
    private final Tokenizer tokenizer;

    public Generator(Transformer model, Tokenizer tokenizer) {
        if (tokenizer == null) {
            throw new JQuantException(model.checkpoint().source() + ": the model has no tokenizer; pass one with --tokenizer");
        }
        this.model = model;
        this.tokenizer = tokenizer;
    }

    public GenerationResult generate(String prompt, GenerationOptions options, Consumer<String> onText) {
        int[] promptTokens = tokenizer.encode(prompt, options.addBos() && tokenizer.bos() >= 0, true);
        return generate(promptTokens, options, onText);
    }

    /** Generates after the given prompt tokens; {@code onText} receives text as soon as it is final. */
    public GenerationResult generate(int[] promptTokens, GenerationOptions options, Consumer<String> onText) {
        if (promptTokens.length == 0) {
            throw new JQuantException("the prompt is empty and the vocabulary has no BOS token to start from");
        }
        int ctx = Math.min(model.config().contextLength(), promptTokens.length + options.maxTokens());
        Session session = model.newSession(Math.max(ctx, promptTokens.length));
        Sampler sampler = new Sampler(options.sampling());
        int[] tokens = Arrays.copyOf(promptTokens, promptTokens.length + options.maxTokens());
        int length = promptTokens.length;
        TextStream stream = new TextStream(tokenizer, promptTokens, options.stopStrings(), onText);

        long t0 = System.nanoTime();
        float[] logits = session.prefillLast(promptTokens);
        long prefill = System.nanoTime() - t0;
        String reason = "max-tokens";
        long t1 = System.nanoTime();
        for (int step = 0; step < options.maxTokens(); step++) {
            int next = sampler.sample(logits, tokens, length);
            if (tokenizer.stopTokens().contains(next)) {
                reason = "eos";
                break;
            }
            tokens[length++] = next;
            if (stream.push(next)) {
                reason = "stop-string";
                break;
            }
            if (step + 1 == options.maxTokens()) {
                break;
            }
            if (session.position() >= session.maxContext()) {
                reason = "context-full";
                break;
            }
            logits = session.forward(next);
        }
        long decode = System.nanoTime() - t1;
        String text = stream.finish();
        return new GenerationResult(text, Arrays.copyOf(tokens, length), promptTokens.length, reason, prefill, decode);
    }

    /**
     * Decodes the growing token list and releases text once it is final: complete UTF-8, and not
     * possibly the start of a stop string.
     */
    static final class TextStream {
        private final Tokenizer tokenizer;
        private final int[] prompt;
        private final java.util.List<String> stops;
        private final Consumer<String> sink;
        private final String promptText;
        private int[] generated = new int[16];
        private int count;
        private int emitted;
        private String text = "";

        TextStream(Tokenizer tokenizer, int[] prompt, java.util.List<String> stops, Consumer<String> sink) {
            this.tokenizer = tokenizer;
            this.prompt = prompt;
            this.stops = stops;
            this.sink = sink;
            this.promptText = tokenizer.decode(prompt);
        }

        /** Adds a token; returns true when a stop string has appeared. */
        boolean push(int token) {
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, count * 2);
            }
            generated[count++] = token;
            int[] all = Arrays.copyOf(prompt, prompt.length + count);
            System.arraycopy(generated, 0, all, prompt.length, count);
            String full = tokenizer.decode(all);
            text = full.startsWith(promptText) ? full.substring(promptText.length()) : tokenizer.decode(Arrays.copyOf(generated, count));
            for (String stop : stops) {
                int at = text.indexOf(stop);
                if (at >= 0) {
                    text = text.substring(0, at);
                    emit(text.length());
                    return true;
                }
            }
            emit(safeLength());
            return false;
        }

        String finish() {
            emit(text.length());
            return text;
        }

        /** Text that can no longer change: no trailing partial character, no trailing prefix of a stop string. */
        private int safeLength() {
            int end = text.length();
            while (end > emitted && text.charAt(end - 1) == '\uFFFD') {
                end--;
            }
            for (String stop : stops) {
                for (int k = Math.min(stop.length() - 1, end); k > 0; k--) {
                    if (text.startsWith(stop.substring(0, k), end - k)) {
                        end = Math.min(end, end - k);
                        break;
                    }
                }
            }
            return Math.max(end, emitted);
        }

        private void emit(int upTo) {
            if (upTo > emitted && sink != null) {
                sink.accept(text.substring(emitted, upTo));
            }
            emitted = Math.max(emitted, upTo);
        }
    }
}
