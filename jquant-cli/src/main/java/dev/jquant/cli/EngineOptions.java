package dev.jquant.cli;

import dev.jquant.model.Checkpoint;
import dev.jquant.model.KvCacheType;
import dev.jquant.model.Transformer;
import picocli.CommandLine.Option;

/** Run-time engine options of the commands that run a model. */
final class EngineOptions {
    @Option(names = "--kv-cache", paramLabel = "TYPE", defaultValue = "f32",
            description = "how the KV cache stores keys and values: f32, f16, q8_0 or q4_0 (default: ${DEFAULT-VALUE})")
    String kvCache;

    Transformer transformer(Checkpoint checkpoint) {
        return new Transformer(checkpoint, KvCacheType.parse(kvCache));
    }
}
