package dev.portcullis.postgres;

import java.util.BitSet;

/**
 * The result columns a statement's lineage says to mask whole, by position. The count of columns
 * the lineage found is kept: a result whose RowDescription has another count was not understood, so
 * every column of it is masked.
 *
 * @param masked      positions to mask
 * @param columns     how many columns the lineage found
 * @param hidesErrors the statement computes on a masked column: the server's error text (which can quote
 *                    the value, as in {@code invalid input syntax for type integer: "..."}) is withheld
 */
record DerivedColumns(BitSet masked, int columns, boolean hidesErrors) {

    DerivedColumns {
        masked = (BitSet) masked.clone();
    }

    /** Whether column {@code index} of a result with {@code fieldCount} columns is masked whole. */
    boolean masks(int index, int fieldCount) {
        return fieldCount != columns || masked.get(index);
    }
}
