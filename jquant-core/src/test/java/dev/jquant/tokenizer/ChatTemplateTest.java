package dev.jquant.tokenizer;

import dev.jquant.testing.SharedData;
import dev.jquant.JQuantException;
import dev.jquant.io.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real chat templates, as their models publish them, rendered to exact text. */
class ChatTemplateTest {
    private static final ChatTemplate.Message SYSTEM = new ChatTemplate.Message("system", "You are terse.");
    private static final ChatTemplate.Message USER = new ChatTemplate.Message("user", " Hi there! ");
    private static final ChatTemplate.Message ASSISTANT = new ChatTemplate.Message("assistant", "Hello.");
    private static final ChatTemplate.Message USER2 = new ChatTemplate.Message("user", "How are you?");

    /** Meta-Llama-3-8B-Instruct. */
    static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
            + "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    /** Qwen2-7B-Instruct (ChatML with a default system prompt). */
    static final String QWEN2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** Llama-2-7b-chat-hf. */
    static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /** Mistral-7B-Instruct-v0.1. */
    static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
            + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    /** Mistral-7B-Instruct-v0.3 without its tool branches: namespace, selectattr, whitespace control, loop.last. */
    static final String MISTRAL_V03 = """
            {%- if messages[0]["role"] == "system" %}
                {%- set system_message = messages[0]["content"] %}
                {%- set loop_messages = messages[1:] %}
            {%- else %}
                {%- set loop_messages = messages %}
            {%- endif %}
            {%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}
            {%- set ns = namespace() %}
            {%- set ns.index = 0 %}
            {%- for message in loop_messages %}
                {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
                    {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
                {%- endif %}
                {%- set ns.index = ns.index + 1 %}
            {%- endfor %}
            {{- bos_token }}
            {%- for message in loop_messages %}
                {%- if message["role"] == "user" %}
                    {%- if loop.last and system_message is defined %}
                        {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
                    {%- else %}
                        {{- "[INST] " + message["content"] + "[/INST]" }}
                    {%- endif %}
                {%- elif message["role"] == "assistant" %}
                    {{- " " + message["content"]|trim + eos_token}}
                {%- else %}
                    {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
                {%- endif %}
            {%- endfor %}
            """;

    @Test
    void phi3TemplateFromGgufRendersAndTokenizes() {
        try (GgufFile gguf = GgufFile.open(SharedData.file("llama.cpp-vocab/ggml-vocab-phi-3.gguf"))) {
            ChatTemplate t = ChatTemplate.fromGguf(gguf).orElseThrow();
            String prompt = t.render(List.of(USER, ASSISTANT, USER2), true);
            assertEquals("<s><|user|>\n Hi there! <|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nHow are you?<|end|>\n"
                    + "<|assistant|>\n", prompt);
            Tokenizer tok = Tokenizers.fromGguf(gguf);
            int[] ids = tok.encode(prompt, false, true);
            assertEquals(List.of(1, 32010), List.of(ids[0], ids[1]));
            assertEquals(32001, ids[ids.length - 1]);
            assertTrue(tok.stopTokens().containsAll(List.of(32000, 32007)), tok.stopTokens().toString());
        }
    }

    @Test
    void qwen2TemplateFromTokenizerConfig() {
        ChatTemplate t = ChatTemplate.fromHfDirectory(SharedData.file("tokenizers/qwen2")).orElseThrow();
        assertEquals("<|im_start|>user\n Hi there! <|im_end|>\n<|im_start|>assistant\ntemplate ends here",
                t.render(List.of(USER), true));
        assertTrue(ChatTemplate.fromHfDirectory(SharedData.file("tokenizers/llama3.2-bpe")).isEmpty());
    }

    @Test
    void llama3() {
        ChatTemplate t = new ChatTemplate(LLAMA3, "<|begin_of_text|>", "<|end_of_text|>");
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                t.render(List.of(SYSTEM, USER), true));
    }

    @Test
    void qwen2ChatMl() {
        ChatTemplate t = new ChatTemplate(QWEN2, null, "<|endoftext|>");
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n",
                t.render(List.of(USER, ASSISTANT), false));
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n Hi there! <|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(List.of(SYSTEM, USER), true));
    }

    @Test
    void llama2Inst() {
        ChatTemplate t = new ChatTemplate(LLAMA2, "<s>", "</s>");
        assertEquals("<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\n Hi there! [/INST] Hello. </s><s>[INST] How are you? [/INST]",
                t.render(List.of(SYSTEM, USER, ASSISTANT, USER2), true));
        JQuantException e = assertThrows(JQuantException.class, () -> t.render(List.of(USER, USER2), true));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void mistralV01() {
        ChatTemplate t = new ChatTemplate(MISTRAL, "<s>", "</s>");
        assertEquals("<s>[INST]  Hi there!  [/INST]Hello.</s>[INST] How are you? [/INST]",
                t.render(List.of(USER, ASSISTANT, USER2), true));
        JQuantException e = assertThrows(JQuantException.class,
                () -> t.render(List.of(USER, new ChatTemplate.Message("tool", "42")), true));
        assertTrue(e.getMessage().contains("Only user and assistant roles are supported!"), e.getMessage());
    }

    @Test
    void mistralV03WithNamespace() {
        ChatTemplate t = new ChatTemplate(MISTRAL_V03, "<s>", "</s>");
        assertEquals("<s>[INST]  Hi there! [/INST] Hello.</s>[INST] You are terse.\n\nHow are you?[/INST]",
                t.render(List.of(SYSTEM, USER, ASSISTANT, USER2), true));
        JQuantException e = assertThrows(JQuantException.class, () -> t.render(List.of(ASSISTANT), true));
        assertTrue(e.getMessage().contains("roles must alternate"), e.getMessage());
    }
}
