const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * Kills `count` agents with SIGKILL mid-flow, one after another: each time a random locker, preferably while
 * one of its doors is open (someone is depositing or picking up), and starts it again.
 */
export async function runCrashes(lockers, count, random, running) {
    let done = 0;
    for (let i = 0; i < count && running(); i++) {
        await sleep(300 + Math.floor(random() * 700));
        const target = lockers[Math.floor(random() * lockers.length)];
        if (!target?.crashAndRestart)
            continue;
        const until = Date.now() + 4000;
        while (running() && Date.now() < until && !target.hardware.compartments().some((c) => target.hardware.isDoorOpen(c.id)))
            await sleep(5);
        await target.crashAndRestart(200 + Math.floor(random() * 300));
        done++;
    }
    return done;
}
//# sourceMappingURL=faults.js.map