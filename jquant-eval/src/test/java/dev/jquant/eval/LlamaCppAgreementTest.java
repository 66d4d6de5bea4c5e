package dev.jquant.eval;

import dev.jquant.JQuant;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.Transformer;
import dev.jquant.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * jquant's eval numbers agree with llama.cpp's llama-perplexity --kl-divergence on the same files:
 * stories260K F32 against llama.cpp's own Q4_K_M mix, first 64 chunks of 512 tokens of tinystories-dev.
 */
class LlamaCppAgreementTest {

    @Test
    void perplexityAndKlDivergenceOfLlamaCppsQ4KmMatchLlamaPerplexity() throws Exception {
        String text = Files.readString(SharedData.file("tinystories/tinystories-dev.txt"));
        try (Checkpoint fp = JQuant.load(SharedData.stories260k());
             Checkpoint q4km = JQuant.load(SharedData.file("stories260K/llama.cpp-quantized/s260k-Q4_K_M.gguf"))) {
            int[] tokens = fp.tokenizer().encode(text, true, false);
            QualityComparison.Result r = QualityComparison.compare(new Transformer(q4km),
                    new QualityComparison.LiveReference(new Transformer(fp)), tokens, 512, 64, fp.tokenizer().bos(), null, null);
            assertEquals(64, r.chunks());
            assertEquals(3.8846, r.pplReference(), 3.8846 * 0.002, "F32 perplexity (llama.cpp: 3.8846)");
            assertEquals(3.9538, r.ppl(), 3.9538 * 0.02, "Q4_K_M perplexity (llama.cpp: 3.9538)");
            assertEquals(0.01564, r.kldMean(), 0.01564 * 0.02, "mean KLD (llama.cpp: 0.01564)");
            assertEquals(93.82, r.sameTopPct(), 1.0, "same top token % (llama.cpp: 93.82)");
            assertEquals(304_096, ModelSize.of(q4km).fileBytes());
        }
    }
}
