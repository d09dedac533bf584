# Relay latency against offered rate, from scripts/bench's sweep, with the
# same sweep along the bare path (signald-floor) dashed when `floor` names a
# file with data. The grey bars are the CPU other programs took during each
# point (right axis): on a shared machine they explain the outliers.
# Usage: gnuplot -e "data='sweep.dat'; floor='floor-sweep.dat'; out='plot.png'" \
#            scripts/bench-latency.gp
set terminal pngcairo size 900,540 font ",11"
set output out
set title "signald relay: end-to-end latency against offered rate (2 nodes + Redis, 1000 clients)"
set xlabel "offered rate (signals/s, total)"
set ylabel "latency (ms)"
set y2label "other programs' CPU (% of a core)"
set logscale x
set logscale y
set y2range [0:200]
set y2tics 50
set ytics nomirror
set grid xtics ytics mxtics mytics
set key top left
set format x "%.0f"
set style fill transparent solid 0.25 noborder
set arrow from graph 0, first 10 to graph 1, first 10 nohead dashtype 2 lc rgb "#999999"
set label "10 ms" at graph 0.01, first 12 tc rgb "#666666"
have_floor = exists("floor") && system("grep -vc '^#' '" . floor . "' 2>/dev/null") + 0 > 0
if (have_floor) {
    plot data using 1:6:($1*0.9):($1*1.1):(0):6 with boxxyerror axes x1y2 lc rgb "#999999" title "other programs' CPU", \
         data using 1:2 with linespoints lw 2 pt 7 lc 1 title "p50", \
         data using 1:3 with linespoints lw 2 pt 5 lc 2 title "p99", \
         floor using 1:2 with linespoints lw 1 dt 2 pt 6 lc 1 title "p50, bare path (signald-floor)", \
         floor using 1:3 with linespoints lw 1 dt 2 pt 4 lc 2 title "p99, bare path (signald-floor)"
} else {
    plot data using 1:6:($1*0.9):($1*1.1):(0):6 with boxxyerror axes x1y2 lc rgb "#999999" title "other programs' CPU", \
         data using 1:2 with linespoints lw 2 pt 7 lc 1 title "p50", \
         data using 1:3 with linespoints lw 2 pt 5 lc 2 title "p99"
}
