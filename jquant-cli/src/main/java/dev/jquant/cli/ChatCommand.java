package dev.jquant.cli;

import dev.jquant.io.TextFiles;
import dev.jquant.JQuantException;
import dev.jquant.generate.Conversation;
import dev.jquant.generate.GenerationOptions;
import dev.jquant.generate.GenerationResult;
import dev.jquant.model.Checkpoint;
import dev.jquant.tokenizer.ChatTemplate;
import dev.jquant.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat with the model's own chat template. Type a message and press Enter; /exit or end of input quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    EngineOptions engine;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", description = "system prompt")
    String system;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "Jinja template to use instead of the model's")
    Path templateFile;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "512", description = "longest reply in tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Override
    public Integer call() throws IOException {
        try (Checkpoint c = modelOptions.load()) {
            Tokenizer tok = c.tokenizer();
            if (tok == null) {
                throw new JQuantException(modelOptions.model + ": the model has no tokenizer; pass one with --tokenizer");
            }
            String source = templateFile != null ? TextFiles.read(templateFile) : c.chatTemplate();
            if (source == null) {
                throw new JQuantException(modelOptions.model + ": the model has no chat template; give one with "
                        + "--chat-template FILE, or use 'jquant generate'");
            }
            ChatTemplate template = new ChatTemplate(source, tok.bos() >= 0 ? tok.piece(tok.bos()) : "",
                    tok.eos() >= 0 ? tok.piece(tok.eos()) : "");
            Conversation chat = new Conversation(engine.transformer(c), tok, template, system);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            boolean interactive = System.console() != null;
            while (true) {
                if (interactive) {
                    System.out.print("> ");
                    System.out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                GenerationResult r = chat.reply(line, new GenerationOptions(maxTokens, sampling.params(), List.of(), false),
                        text -> {
                            System.out.print(text);
                            System.out.flush();
                        });
                System.out.println();
                if (interactive) {
                    System.err.printf("[%d tokens, %.1f tok/s]%n", r.generatedTokens(), r.decodeTokensPerSecond());
                }
            }
        }
        return 0;
    }
}
