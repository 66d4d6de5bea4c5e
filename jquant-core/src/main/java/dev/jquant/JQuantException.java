package dev.jquant;

/**
 * A problem the user can act on: a bad file, a wrong argument, an unsupported model.
 * The message is one line that names what was wrong; the CLI prints it without a stack trace.
 */
public class JQuantException extends RuntimeException {
    public JQuantException(String message) {
        super(message);
    }

    public JQuantException(String message, Throwable cause) {
        super(message, cause);
    }
}
