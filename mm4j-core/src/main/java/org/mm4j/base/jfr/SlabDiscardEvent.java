package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A cache gave an empty slab back to the page allocator ({@code discard_slab}). */
@Name("org.mm4j.SlabDiscard")
@Label("Slab Discard")
@Category({"mm4j", "Slab"})
@Description("A kmem cache returned an empty slab to the buddy allocator (discard_slab)")
public final class SlabDiscardEvent extends SlabEvent {
}
