package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A cache took a new slab from the page allocator ({@code new_slab}/{@code allocate_slab}). */
@Name("org.mm4j.SlabGrow")
@Label("Slab Grow")
@Category({"mm4j", "Slab"})
@Description("A kmem cache took a new slab from the buddy allocator (new_slab)")
public final class SlabGrowEvent extends SlabEvent {
}
