package org.mm4j.vma;

/**
 * A {@code struct anon_vma_chain}: links one VMA to one anon_vma it may find its pages through (its own, and on a
 * fork child's VMA those of every ancestor). A slab object of "anon_vma_chain" at {@code kaddr}.
 *
 * @param kaddr    the object's address in the anon_vma_chain cache
 * @param anonVma  the anon_vma linked
 */
record AnonVmaChain(long kaddr, AnonVma anonVma) {
}
