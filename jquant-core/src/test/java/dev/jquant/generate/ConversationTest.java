package dev.jquant.generate;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.ModelConfig;
import dev.jquant.model.RopeStyle;
import dev.jquant.model.Transformer;
import dev.jquant.testing.TestModels;
import dev.jquant.tokenizer.ChatTemplate;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConversationTest {
    /** Letters only: each turn's content, user turns followed by "q", replies ended by "z". */
    private static final String TEMPLATE = "{% for m in messages %}{{ m.content }}{% if m.role == 'user' %}q{% else %}z{% endif %}"
            + "{% endfor %}";

    @Test
    void laterTurnsReuseTheCacheAndAnswerAsAFreshRunWould() {
        try (Arena arena = Arena.ofShared()) {
            ModelConfig cfg = new ModelConfig("llama", 32, 64, 2, 4, 2, 8, 28, 256, 1e-5f, 10000,
                    RopeStyle.ADJACENT_PAIRS, null, false, false, true);
            Checkpoint c = TestModels.random(cfg, dev.jquant.format.F32.INSTANCE, 9, arena)
                    .withTokenizer(new GeneratorTest.Letters());
            Transformer model = new Transformer(c);
            ChatTemplate template = new ChatTemplate(TEMPLATE, "", "");
            Conversation chat = new Conversation(model, c.tokenizer(), template, null);
            GenerationOptions greedy = new GenerationOptions(12, SamplingParams.GREEDY, java.util.List.of(), true);

            GenerationResult first = chat.reply("hello", greedy, null);
            GenerationResult second = chat.reply("again", greedy, null);

            String rendered = template.render(chat.messages().subList(0, 3), true);
            GenerationResult fresh = new Generator(model, c.tokenizer()).generate(rendered, greedy, null);
            assertEquals(fresh.text().strip(), second.text());
            assertEquals(4, chat.messages().size());
            assertEquals(first.text(), chat.messages().get(1).content());
        }
    }
}
