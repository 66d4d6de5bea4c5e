package dev.jquant.io.safetensors;

/**
 * One tensor as a safetensors header describes it.
 *
 * @param dtype the dtype as written in the header (kept as text so unusable ones can still be listed)
 * @param shape row-major, outermost dimension first
 * @param begin start of its bytes, relative to the start of the data section
 * @param end   end (exclusive) of its bytes, relative to the start of the data section
 */
public record SafetensorsEntry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
    public SafetensorsEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long byteSize() {
        return end - begin;
    }
}
