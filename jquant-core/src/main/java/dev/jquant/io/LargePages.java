package dev.jquant.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Off-heap memory for the large arrays the kernels stream through on every token (the repacked
 * weights), in transparent huge pages where Linux offers them.
 *
 * <p>A decode step reads every weight once, far beyond the caches, and the hardware prefetchers
 * stop at each 4 KiB page: with 2 MiB pages a 4-bit product from memory ran 7-26 % faster
 * (BENCHMARKS.md, "Huge pages"). The JDK's own off-heap allocation zero-fills its memory before we
 * could ask for huge pages, so the pages here come straight from {@code mmap}, marked with
 * {@code madvise(MADV_HUGEPAGE)} before they are touched. Only whole 2 MiB pages inside the requested
 * size are marked, so no page beyond it becomes resident. Anywhere else (another OS or processor,
 * native access denied, a failed call), or with the system property {@code jquant.largePages=false} (to compare),
 * the memory comes from the arena as usual.
 */
public final class LargePages {
    /** The huge page of x86-64 (and of AArch64 with 4 KiB pages). */
    public static final long HUGE_PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final Calls CALLS = Calls.find();

    private LargePages() {
    }

    /**
     * {@code bytes} of zeroed memory, aligned to 64 bytes, freed with {@code arena}: in huge pages
     * where the system offers them and the size is at least one huge page.
     */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (!available() || bytes < HUGE_PAGE) {
            return arena.allocate(bytes, 64);
        }
        long length = bytes + HUGE_PAGE;
        MemorySegment mapped;
        try {
            mapped = (MemorySegment) CALLS.mmap.invokeExact(MemorySegment.NULL, length, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            return arena.allocate(bytes, 64);
        }
        if (mapped.address() == -1L || mapped.address() == 0L) {
            return arena.allocate(bytes, 64);
        }
        long base = mapped.address();
        long aligned = (base + HUGE_PAGE - 1) & -HUGE_PAGE;
        MemorySegment segment = MemorySegment.ofAddress(aligned).reinterpret(bytes, arena, s -> CALLS.unmap(base, length));
        try {
            int ignored = (int) CALLS.madvise.invokeExact(segment, bytes / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
        } catch (Throwable t) {
            // Without the advice the memory is still good, in small pages.
        }
        return segment;
    }

    /**
     * This process's resident anonymous memory in huge pages ({@code AnonHugePages} of
     * {@code /proc/self/smaps_rollup}), or -1 where the system does not say.
     */
    public static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
                if (line.startsWith("AnonHugePages:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or a kernel without smaps_rollup.
        }
        return -1;
    }

    /** Whether {@link #allocate} asks the system for huge pages here, now (the property is read each time). */
    public static boolean available() {
        return CALLS != null && !"false".equals(System.getProperty("jquant.largePages"));
    }

    /**
     * libc's mmap, munmap and madvise, or none where the flag values above are not Linux's on x86-64
     * or where native access is denied.
     */
    private record Calls(MethodHandle mmap, MethodHandle munmap, MethodHandle madvise) {
        static Calls find() {
            if (!System.getProperty("os.name", "").startsWith("Linux") || !"amd64".equals(System.getProperty("os.arch"))) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                return new Calls(
                        linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                        linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)),
                        linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)));
            } catch (Throwable t) {
                return null;
            }
        }

        void unmap(long address, long length) {
            try {
                int ignored = (int) munmap.invokeExact(address, length);
            } catch (Throwable t) {
                // Nothing to do when the memory cannot be returned; the process keeps it.
            }
        }
    }
}
