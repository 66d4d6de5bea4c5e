package dev.jquant.eval.task;

import java.util.List;

/** One multiple-choice question: a context, its candidate continuations and the index of the right one. */
public record MultipleChoiceItem(String context, List<String> choices, int label) {
    public MultipleChoiceItem {
        choices = List.copyOf(choices);
        if (choices.size() < 2) {
            throw new IllegalArgumentException("a multiple-choice item needs at least two choices");
        }
        if (label < 0 || label >= choices.size()) {
            throw new IllegalArgumentException("label " + label + " is not one of the " + choices.size() + " choices");
        }
    }
}
