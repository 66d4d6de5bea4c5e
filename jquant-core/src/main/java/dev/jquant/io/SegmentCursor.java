package dev.jquant.io;

import dev.jquant.JQuantException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads little-endian values from a memory segment, checking every read against the segment's end
 * so that a truncated or lying header becomes a one-line error naming the file and the field.
 */
public final class SegmentCursor {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private final String source;
    private long position;

    public SegmentCursor(MemorySegment segment, String source) {
        this.segment = segment;
        this.source = source;
    }

    public long position() {
        return position;
    }

    public void seek(long position) {
        this.position = position;
    }

    public long remaining() {
        return segment.byteSize() - position;
    }

    public MemorySegment segment() {
        return segment;
    }

    public JQuantException error(String field, String problem) {
        return new JQuantException(source + ": " + field + ": " + problem);
    }

    /** Fails unless {@code bytes} more bytes can be read for {@code field}. */
    public void require(long bytes, String field) {
        if (bytes < 0 || bytes > remaining()) {
            throw error(field, "needs " + Long.toUnsignedString(bytes) + " bytes at offset " + position
                    + " but the file has " + remaining() + " left (truncated or corrupt)");
        }
    }

    public byte i8(String field) {
        require(1, field);
        return segment.get(ValueLayout.JAVA_BYTE, position++);
    }

    public short i16(String field) {
        require(2, field);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    public int i32(String field) {
        require(4, field);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    public long i64(String field) {
        require(8, field);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    public float f32(String field) {
        return Float.intBitsToFloat(i32(field));
    }

    public double f64(String field) {
        return Double.longBitsToDouble(i64(field));
    }

    /** An unsigned 64-bit count that must also fit the remaining bytes at {@code minBytesEach} per item. */
    public long count(String field, long minBytesEach) {
        long n = i64(field);
        if (n < 0 || (minBytesEach > 0 && n > remaining() / minBytesEach)) {
            throw error(field, "count " + Long.toUnsignedString(n) + " is impossible: only " + remaining()
                    + " bytes remain in the file");
        }
        return n;
    }

    public byte[] bytes(long n, String field) {
        require(n, field);
        if (n > Integer.MAX_VALUE - 16) {
            throw error(field, "length " + n + " is too large");
        }
        byte[] out = segment.asSlice(position, n).toArray(ValueLayout.JAVA_BYTE);
        position += n;
        return out;
    }

    /** A UTF-8 string of {@code length} bytes; invalid UTF-8 is replaced, never fatal (vocabularies hold byte pieces). */
    public String utf8(long length, String field) {
        byte[] raw = bytes(length, field);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            return new String(raw, StandardCharsets.UTF_8);
        }
    }
}
