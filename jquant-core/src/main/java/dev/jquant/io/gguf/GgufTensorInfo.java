package dev.jquant.io.gguf;

/**
 * A tensor as the GGUF header describes it: ggml dimensions (innermost first, as ggml's ne[]), the
 * ggml type id, and the offset of its data relative to the start of the data section.
 */
public record GgufTensorInfo(String name, long[] ne, int typeId, long offset) {
    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Row-major shape, outermost dimension first (ggml's ne reversed). */
    public long[] shape() {
        long[] shape = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            shape[i] = ne[ne.length - 1 - i];
        }
        return shape;
    }
}
