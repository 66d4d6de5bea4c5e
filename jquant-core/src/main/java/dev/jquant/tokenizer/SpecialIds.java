package dev.jquant.tokenizer;

/**
 * The special ids and framing flags a checkpoint declares (-1 where it has none).
 * {@code addBos}/{@code addEos}/{@code addSep} say what the model expects around a prompt.
 */
record SpecialIds(int bos, int eos, int unk, int sep, int eot, int eom, boolean addBos, boolean addEos, boolean addSep) {
}
