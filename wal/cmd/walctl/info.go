package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/fleetrelay/fleetrelay/wal"
)

func runInfo(args []string, stdout io.Writer) error {
	fs, dir := newFlags("info")
	if err := parse(fs, dir, args); err != nil {
		return err
	}
	meta, err := wal.ReadMeta(*dir)
	if err != nil {
		return err
	}
	consumers, err := wal.Consumers(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "log %s: format %d, %d partitions, created %s\n\n",
		*dir, meta.FormatVersion, meta.Partitions, meta.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tFIRST\tLAST\tSEGMENTS\tBYTES")
	stats := make([]wal.PartitionStat, meta.Partitions)
	for p := range meta.Partitions {
		if stats[p], err = wal.StatPartition(*dir, p); err != nil {
			return err
		}
		st := stats[p]
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\n", p, st.FirstIndex, st.LastIndex, st.Segments, st.Bytes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printConsumers(stdout, *dir, consumers, stats)
}

func printConsumers(stdout io.Writer, dir string, consumers []string, stats []wal.PartitionStat) error {
	if len(consumers) == 0 {
		_, err := fmt.Fprintln(stdout, "\nno consumer cursors")
		return err
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tPARTITION\tPOSITION\tLAG")
	for _, c := range consumers {
		for _, st := range stats {
			pos, err := wal.LoadCursor(dir, c, st.Partition)
			if err != nil {
				return err
			}
			lag := int64(st.LastIndex) - int64(pos)
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", c, st.Partition, pos, max(lag, 0))
		}
	}
	return tw.Flush()
}
