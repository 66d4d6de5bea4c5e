package dev.jquant.io;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LargePagesTest {

    @Test
    void largeMemoryIsZeroedWritableAndOfTheSizeAsked() {
        long bytes = 3 * LargePages.HUGE_PAGE + 12_345;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = LargePages.allocate(arena, bytes);
            assertEquals(bytes, m.byteSize());
            assertEquals(0, m.address() % 64);
            for (long i = 0; i < bytes; i += 4096) {
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            Random random = new Random(7);
            long[] at = new long[64];
            for (int i = 0; i < at.length; i++) {
                at[i] = i * (bytes / at.length) + random.nextInt(1000); // one in each 64th, never overlapping
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, at[i], at[i] * 31);
            }
            for (long a : at) {
                assertEquals(a * 31, m.get(ValueLayout.JAVA_LONG_UNALIGNED, a), "value at " + a);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> m.get(ValueLayout.JAVA_BYTE, bytes));
        }
    }

    @Test
    void onLinuxX86LargeMemoryStartsOnAHugePage() {
        if (!System.getProperty("os.name").startsWith("Linux") || !"amd64".equals(System.getProperty("os.arch"))
                || "false".equals(System.getProperty("jquant.largePages"))) {
            assertFalse(LargePages.available());
            return;
        }
        assertTrue(LargePages.available(), "mmap/madvise should be reachable here (--enable-native-access)");
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(0, LargePages.allocate(arena, 2 * LargePages.HUGE_PAGE).address() % LargePages.HUGE_PAGE);
        }
    }

    @Test
    void hugePagesBackTheMemoryWhereTheSystemGivesThem() throws Exception {
        Path enabled = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!LargePages.available() || !Files.exists(enabled) || Files.readString(enabled).contains("[never]")) {
            return; // nothing to observe: the system gives no transparent huge pages
        }
        long before = LargePages.residentBytes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = LargePages.allocate(arena, 8 * LargePages.HUGE_PAGE);
            for (long i = 0; i < m.byteSize(); i += 4096) {
                m.set(ValueLayout.JAVA_BYTE, i, (byte) 1);
            }
            assertTrue(LargePages.residentBytes() > before, "no huge page became resident");
        }
    }

    @Test
    void smallMemoryComesFromTheArena() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = LargePages.allocate(arena, 1000);
            assertEquals(1000, m.byteSize());
            assertEquals(0, m.get(ValueLayout.JAVA_BYTE, 999));
        }
    }

    @Test
    void memoryIsGoneWhenItsArenaCloses() {
        MemorySegment m;
        try (Arena arena = Arena.ofConfined()) {
            m = LargePages.allocate(arena, 2 * LargePages.HUGE_PAGE);
            m.set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
        }
        MemorySegment closed = m;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }
}
