package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExprTest {
    @Test
    void precedenceIsCs() {
        assertEquals(7, Expr.eval("1 + 2 * 3"));
        assertEquals(9, Expr.eval("(1 + 2) * 3"));
        assertEquals(1 | 2 ^ 3 & 4, Expr.eval("1 | 2 ^ 3 & 4"));
        assertEquals(1 + 2 << 3, Expr.eval("1 + 2 << 3"));
        assertEquals(-1L, Expr.eval("~0"));
        assertEquals(-5, Expr.eval("-5"));
        assertEquals(2, Expr.eval("17 % 5"));
        assertEquals(0x1000, Expr.eval("0x1234 & ~0xfff"));
        assertEquals(0x100, Expr.eval("0x10<<4"));
    }

    @Test
    void valuesAreUnsigned64Bit() {
        assertEquals(0xffff888000123440L, Expr.eval("0xffff888000123440"));
        assertEquals(0xffff888000123000L, Expr.eval("0xffff888000123440 & ~4095"));
        assertEquals(0x7fff888000123440L >>> 4 | 0x0800000000000000L, Expr.eval("0xffff888000123440 >> 4")
            & 0x0fffffffffffffffL | 0x0800000000000000L);
        assertEquals(0x0ffff88800012344L, Expr.eval("0xffff888000123440 >> 4"));
        assertEquals(Long.divideUnsigned(-1L, 2), Expr.eval("0xffffffffffffffff / 2"));
        assertEquals(-1L, Expr.eval("18446744073709551615"));
    }

    @Test
    void badInputIsAClearError() {
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("18446744073709551616")).getMessage()
            .contains("number too large"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("0x10000000000000000")).getMessage()
            .contains("number too large"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("4 / 0")).getMessage()
            .contains("division by zero"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("(1 + 2")).getMessage()
            .contains("missing ')'"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("12abc")).getMessage()
            .contains("bad number '12abc'"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("1 +")).getMessage()
            .contains("expression expected"));
        assertTrue(assertThrows(ShellException.class, () -> Expr.eval("foo")).getMessage()
            .contains("number or address expected"));
    }

    @Test
    void argumentExpressionsEndWhereNoOperatorFollows() {
        final ArgReader a = new ArgReader("(0x1234 & ~4095) + 64 12 34", "write ADDR HEXBYTES");
        assertEquals(0x1040, a.expr("ADDR"));
        assertEquals("12", a.word("B"));
        assertEquals(34, a.expr("N"));
        a.end();
        final ArgReader b = new ArgReader("16 (-1)", "fill");
        assertEquals(16, b.expr("LEN"));
        assertEquals(-1, b.expr("BYTE"));
    }
}
