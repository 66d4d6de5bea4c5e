package dev.jquant.generate;

import dev.jquant.JQuantException;
import dev.jquant.model.Session;
import dev.jquant.model.Transformer;
import dev.jquant.tokenizer.ChatTemplate;
import dev.jquant.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A chat with a model: messages are rendered with the model's own template, and the KV cache of
 * the part of the conversation that did not change is kept between turns, so each turn only
 * prefills what is new.
 */
public final class Conversation {
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Session session;
    private final List<ChatTemplate.Message> messages = new ArrayList<>();
    private int[] cached = new int[0];

    public Conversation(Transformer model, Tokenizer tokenizer, ChatTemplate template, String systemPrompt) {
        if (tokenizer == null) {
            throw new JQuantException("the model has no tokenizer");
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.session = model.newSession(model.config().contextLength());
        if (systemPrompt != null && !systemPrompt.isBlank()) {
            messages.add(new ChatTemplate.Message("system", systemPrompt));
        }
    }

    public List<ChatTemplate.Message> messages() {
        return List.copyOf(messages);
    }

    /** Adds the user's message, generates the assistant's reply (streamed to {@code onText}) and records it. */
    public GenerationResult reply(String userMessage, GenerationOptions options, Consumer<String> onText) {
        messages.add(new ChatTemplate.Message("user", userMessage));
        String prompt = template.render(messages, true);
        String bosText = tokenizer.bos() >= 0 ? tokenizer.piece(tokenizer.bos()) : "";
        boolean templateHasBos = !bosText.isEmpty() && prompt.startsWith(bosText);
        int[] tokens = tokenizer.encode(prompt, !templateHasBos && tokenizer.addBosByDefault(), true);
        if (tokens.length + options.maxTokens() > session.maxContext()) {
            messages.removeLast();
            throw new JQuantException("the conversation (" + tokens.length + " tokens) no longer fits the context of "
                    + session.maxContext() + " tokens with " + options.maxTokens() + " more; start a new chat");
        }
        int common = commonPrefix(cached, tokens);
        if (common == tokens.length) {
            common--; // always feed at least the last prompt token to get fresh logits
        }
        session.rewind(Math.min(common, session.position()));
        long t0 = System.nanoTime();
        float[] logits = session.prefillLast(Arrays.copyOfRange(tokens, session.position(), tokens.length));
        long prefill = System.nanoTime() - t0;

        Sampler sampler = new Sampler(options.sampling());
        int[] all = Arrays.copyOf(tokens, tokens.length + options.maxTokens());
        int length = tokens.length;
        Generator.StoppableText text = new Generator.StoppableText(tokenizer, tokens[tokens.length - 1],
                options.stopStrings(), onText);
        String reason = "max-tokens";
        long t1 = System.nanoTime();
        for (int step = 0; step < options.maxTokens(); step++) {
            int next = sampler.sample(logits, all, length);
            if (tokenizer.stopTokens().contains(next)) {
                reason = "eos";
                break;
            }
            all[length++] = next;
            if (text.push(next)) {
                reason = "stop-string";
                break;
            }
            logits = session.forward(next);
        }
        long decode = System.nanoTime() - t1;
        String reply = text.finish().strip();
        messages.add(new ChatTemplate.Message("assistant", reply));
        cached = Arrays.copyOf(all, length);
        return new GenerationResult(reply, cached, tokens.length, reason, prefill, decode);
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
