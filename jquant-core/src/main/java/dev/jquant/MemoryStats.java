package dev.jquant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process, from Linux's /proc/self/status (mapped weights count once touched). */
public final class MemoryStats {
    private MemoryStats() {
    }

    /** Peak resident set size (VmHWM) in bytes, or -1 where /proc is not available. */
    public static long peakRssBytes() {
        return statusKb("VmHWM:");
    }

    /** Current resident set size (VmRSS) in bytes, or -1. */
    public static long rssBytes() {
        return statusKb("VmRSS:");
    }

    /**
     * Private resident memory (RssAnon: heap, off-heap arenas, stacks) in bytes, or -1: what a
     * process holds beyond the pages of mapped files, which the kernel can drop and re-read.
     */
    public static long privateRssBytes() {
        return statusKb("RssAnon:");
    }

    private static long statusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
