"""The video subsystem: ingest, analysis (quality, motion), detection, tracking, rules,
recording and live view. Heavy work runs in worker processes (one per group of cameras); this
package holds the code those processes run and the pure pieces the tests drive directly."""
