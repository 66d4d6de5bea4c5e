package dev.jquant.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's own Jinja chat template (GGUF {@code tokenizer.chat_template} or tokenizer_config.json
 * {@code chat_template}), rendered with jinjava the way Hugging Face renders it: trim_blocks and
 * lstrip_blocks on, {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token} and {@code raise_exception} in scope.
 */
public final class ChatTemplate {
    /** One chat turn; {@code role} is "system", "user", "assistant" or whatever the template knows. */
    public record Message(String role, String content) {
    }

    private static final Jinjava JINJAVA = newJinjava();

    private final String template;
    private final String bosToken;
    private final String eosToken;

    public ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
    }

    /** The template a GGUF carries, with its BOS/EOS token texts. */
    public static Optional<ChatTemplate> fromGguf(GgufFile gguf) {
        String template = gguf.getString("tokenizer.chat_template", null);
        if (template == null) {
            return Optional.empty();
        }
        Tokenizer t = Tokenizers.fromGguf(gguf);
        return Optional.of(new ChatTemplate(template, t.bos() >= 0 ? t.piece(t.bos()) : "", t.eos() >= 0 ? t.piece(t.eos()) : ""));
    }

    /** The template in a Hugging Face directory's tokenizer_config.json (the "default" one if there are several). */
    public static Optional<ChatTemplate> fromHfDirectory(Path dir) {
        JsonNode config = HfTokenizerLoader.readJsonIfPresent(dir.resolve("tokenizer_config.json"));
        JsonNode node = config.path("chat_template");
        String template = null;
        if (node.isTextual()) {
            template = node.asText();
        } else if (node.isArray()) {
            for (JsonNode named : node) {
                if (template == null || named.path("name").asText().equals("default")) {
                    template = named.path("template").asText(null);
                }
            }
        }
        if (template == null) {
            return Optional.empty();
        }
        return Optional.of(new ChatTemplate(template, tokenText(config.path("bos_token")), tokenText(config.path("eos_token"))));
    }

    private static String tokenText(JsonNode node) {
        return node.isTextual() ? node.asText() : node.path("content").asText("");
    }

    public String template() {
        return template;
    }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /** Renders the conversation; {@code extra} adds variables some templates read (tools, date_string, ...). */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        Map<String, Object> context = new HashMap<>(extra);
        context.put("messages", turns);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RenderResult result = JINJAVA.renderForResult(template, context);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                    if (t instanceof JQuantException raised) {
                        throw raised; // raise_exception's own message
                    }
                }
                throw new JQuantException("chat template: " + oneLine(error.getMessage())
                        + (error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : ""));
            }
        }
        return result.getOutput();
    }

    /** Called by templates to reject a conversation (e.g. roles that do not alternate). */
    public static String raiseException(String message) {
        throw new JQuantException("chat template: " + message);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    private static Jinjava newJinjava() {
        // Jinja2 semantics that jinjava only applies when asked: {{- -}} trimming, filter-before-operator precedence
        LegacyOverrides jinja2 = LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true)
                .withUseNaturalOperatorPrecedence(true).withParseWhitespaceControlStrictly(true).build();
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withLegacyOverrides(jinja2).build());
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        return jinjava;
    }
}
