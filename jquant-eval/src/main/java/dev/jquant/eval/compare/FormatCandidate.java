package dev.jquant.eval.compare;

import dev.jquant.format.Format;

import java.util.Locale;

/** A candidate that stores its matrices in one format: named {@code method-format}, its setting the format. */
interface FormatCandidate extends Candidate {
    Format format();

    @Override
    default String name() {
        return method() + "-" + format().name().toLowerCase(Locale.ROOT);
    }

    @Override
    default String setting() {
        return format().name();
    }
}
