package dev.jquant.cli;

import dev.jquant.io.peft.PeftAdapterFiles;
import dev.jquant.model.Checkpoint;
import dev.jquant.model.LoraAdapter;
import dev.jquant.model.KvCacheType;
import dev.jquant.model.Transformer;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Run-time engine options of the commands that run a model. */
final class EngineOptions {
    @Option(names = "--kv-cache", paramLabel = "TYPE", defaultValue = "f32",
            description = "how the KV cache stores keys and values: f32, f16, q8_0 or q4_0 (default: ${DEFAULT-VALUE})")
    String kvCache;

    @Option(names = "--lora", paramLabel = "DIR",
            description = "apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) at run time")
    Path lora;

    Transformer transformer(Checkpoint checkpoint) {
        LoraAdapter adapter = lora == null ? null : PeftAdapterFiles.read(lora, checkpoint.config());
        return new Transformer(checkpoint, KvCacheType.parse(kvCache), adapter);
    }
}
