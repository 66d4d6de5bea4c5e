package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextStreamTest {
    @Test
    void byteFallbackCharactersAppearWhenComplete() {
        Tokenizer t = SpmTokenizerTest.stories260kGguf();
        String text = "Tim saw a 🙂 and said: “ok”.";
        int[] ids = t.encode(text, true);
        TextStream stream = new TextStream(t);
        List<String> pieces = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String piece = stream.push(id);
            pieces.add(piece);
            all.append(piece);
        }
        all.append(stream.flush());
        assertEquals(text, all.toString());
        assertEquals("Tim", pieces.get(1), "the space after BOS is dropped");
        // the emoji's four byte tokens: three empty pieces, then the whole character
        int first = pieces.indexOf("🙂");
        assertEquals(List.of("", "", ""), pieces.subList(first - 3, first));
    }

    @Test
    void byteLevelTokensSplitInsideACharacter() {
        Tokenizer t = Tokenizers.fromHfDirectory(SharedData.file("tokenizers/qwen2"));
        String text = "日本語 and 🙂🙃 done";
        StringBuilder all = new StringBuilder();
        TextStream stream = new TextStream(t);
        for (int id : t.encode(text, false)) {
            String piece = stream.push(id);
            assertEquals(-1, piece.indexOf('\uFFFD'), "no half characters: " + piece);
            all.append(piece);
        }
        assertEquals(text, all.append(stream.flush()).toString());
    }

    @Test
    void anUnfinishedCharacterIsFlushedAsReplacement() {
        Tokenizer t = SpmTokenizerTest.stories260kGguf();
        TextStream stream = new TextStream(t);
        assertEquals("", stream.push(3 + 0xF0));
        assertEquals("\uFFFD", stream.flush());
    }
}
