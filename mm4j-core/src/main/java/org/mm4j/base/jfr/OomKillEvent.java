package org.mm4j.base.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** The OOM killer killed a model process ({@code __oom_kill_process}). */
@Name("org.mm4j.OomKill")
@Label("OOM Kill")
@Category({"mm4j", "OOM Killer"})
@Description("The model's OOM killer killed a process (Out of memory: Killed process ...)")
public final class OomKillEvent extends jdk.jfr.Event {
    @Label("Kernel")
    @Description("The kernel's id (Kernel.id(), as in the MBean names); 0 outside a booted kernel")
    public int kernel;
    @Label("Pid")
    public int pid;
    @Label("Command")
    public String comm;
    @Label("Reason")
    @Description("Out of memory, or Out of memory (oom_kill_allocating_task)")
    public String reason;
    @Label("Total VM")
    @DataAmount
    public long totalVm;
    @Label("Anonymous RSS")
    @DataAmount
    public long anonRss;
    @Label("File RSS")
    @DataAmount
    public long fileRss;
    @Label("Shmem RSS")
    @DataAmount
    public long shmemRss;
    @Label("oom_score_adj")
    public int oomScoreAdj;
}
