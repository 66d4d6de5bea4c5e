package dev.jquant.generate;

import dev.jquant.JQuantException;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;
import dev.jquant.tokenizer.TextStream;
import dev.jquant.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
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
        StoppableText stream = new StoppableText(tokenizer, promptTokens[promptTokens.length - 1], options.stopStrings(), onText);

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
     * Releases generated text once it is final: the tokenizer's stream holds back split UTF-8
     * characters, and this holds back a tail that could still become a stop string.
     */
    static final class StoppableText {
        private final TextStream decoder;
        private final List<String> stops;
        private final Consumer<String> sink;
        private final StringBuilder text = new StringBuilder();
        private int emitted;

        StoppableText(Tokenizer tokenizer, int lastPromptToken, List<String> stops, Consumer<String> sink) {
            // knowing the previous token lets a piece right after BOS drop its leading space
            this.decoder = new TextStream(tokenizer).startAfter(lastPromptToken);
            this.stops = stops;
            this.sink = sink;
        }

        /** Adds a token; returns true when a stop string has appeared (the text is cut before it). */
        boolean push(int token) {
            text.append(decoder.push(token));
            for (String stop : stops) {
                int at = text.indexOf(stop, Math.max(0, emitted - stop.length()));
                if (at >= 0) {
                    text.setLength(at);
                    emit(at);
                    return true;
                }
            }
            emit(safeLength());
            return false;
        }

        String finish() {
            text.append(decoder.flush());
            emit(text.length());
            return text.toString();
        }

        /** The end of the text minus any suffix that is a prefix of a stop string. */
        private int safeLength() {
            int end = text.length();
            for (String stop : stops) {
                for (int k = Math.min(stop.length() - 1, text.length()); k > 0; k--) {
                    if (text.substring(text.length() - k).equals(stop.substring(0, k))) {
                        end = Math.min(end, text.length() - k);
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
