/** JMH benchmarks of mm4j beside its peers (glibc malloc through FFM, jemalloc, mimalloc, Netty, arenas). */
package org.mm4j.bench;
