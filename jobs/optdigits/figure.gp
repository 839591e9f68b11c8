# Six held-out digits (rows; the last split run) of the optdigits study (jobs/optdigits/run.sh): truth | inpainting:
# observation (missing grey), Gaussian, best GMM-K, learned (ve-pc) | denoising: observation,
# Gaussian, best GMM-K, learned (Tweedie). Data from study.py figure.
#   gnuplot -e "datafile='out/optdigits/figure.dat'; outfile='out/optdigits/figure.png'" figure.gp
set terminal pngcairo size 900,560 font ",10"
set output outfile
set palette gray negative
unset colorbox
set cbrange [0:1]
set size ratio -1
unset key
set xtics ("truth" 4, "inpaint y" 13, "Gaussian" 22, "GMM" 31, "learned" 40, \
           "denoise y" 49, "Gaussian" 58, "GMM" 67, "learned" 76) scale 0 font ",9"
unset ytics
set xrange [-0.5:80.5]
set yrange [-0.5:53.5]
set border 0
set title "optdigits test digits: inpainting (50% missing) and denoising (sigma_y 0.2)"
plot datafile using 1:2:3 with image
