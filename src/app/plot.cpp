#include "plot.hpp"

#include "report.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::app {

namespace {
struct Curves {
  std::string data;  // step loss val_loss lr grad_norm ("NaN" where missing)
  Index rows = 0;
  bool positive_loss = true;
};

Curves read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open '" + path + "'");
  io::note_input(path);  // read: no output of this run may replace it
  Curves c;
  std::ostringstream data;
  data.precision(12);
  std::string line;
  Index number = 0;
  auto field = [](const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw Error("'" + path + "' line " + std::to_string(number) + ": not a JSON object");
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number() || !j.contains("loss") ||
        !j["loss"].is_number())
      throw Error("'" + path + "' line " + std::to_string(number) +
                  ": expected an object with numeric 'step' and 'loss' (a fit metrics.jsonl)");
    const double loss = field(j, "loss"), val = field(j, "val_loss");
    c.positive_loss = c.positive_loss && loss > 0 && (std::isnan(val) || val > 0);
    data << j["step"].get<double>() << ' ' << loss << ' ' << val << ' ' << field(j, "lr") << ' '
         << field(j, "grad_norm") << '\n';
    ++c.rows;
  }
  if (c.rows == 0) throw Error("'" + path + "' has no metrics lines");
  c.data = data.str();
  return c;
}
}  // namespace

void run_plot(const dist::Comm& comm, PlotJob& job) {
  PlotJob* const o = &job;
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (o->metrics.empty() == o->samples.empty())
      throw SettingError("plot needs --metrics FILE (training curves) or --samples FILE (traces)");
    if (!o->samples.empty()) {
      TracePicture pic;
      pic.samples = o->samples;
      pic.chains = o->chains;
      pic.dims = o->dims;
      pic.dims_option = setting("dims");
      pic.max_lag = std::max<Index>(o->max_lag, 1);
      pic.width = o->size[0];
      if (o->size_given) pic.height = o->size[1];
      pic.title = o->title.empty() ? o->samples : o->title;
      render_trace(pic, o->out);
      return;
    }
    if (o->size[0] < 200 || o->size[1] < 150 || o->size[0] > 8000 || o->size[1] > 8000)
      throw SettingError(setting("size") + " must lie between 200 x 150 and 8000 x 8000 pixels");
    const Curves c = read_metrics(o->metrics);
    render_png(o->out, "curves.gp", "curves.png", [&](const std::filesystem::path& dir) {
      write_text_file((dir / "curves.dat").string(), c.data);
      std::ostringstream gp;
      gp << "set terminal pngcairo size " << o->size[0] << "," << o->size[1]
         << " enhanced font 'sans,10'\nset output 'curves.png'\n"
         << "set multiplot layout 1,2 title "
         << gnuplot_quoted(o->title.empty() ? o->metrics : o->title) << "\n"
         << "set xlabel 'step'\nset grid\nset key top right\n"
         << (c.positive_loss ? "set logscale y\n" : "") << "set title 'objective'\n"
         << "plot 'curves.dat' using 1:2 with lines lw 1.5 title 'training loss', "
            "'' using 1:3 with linespoints pt 7 ps 0.6 title 'validation loss'\n"
         << "unset logscale y\nset title 'learning rate and gradient norm'\n"
         << "set logscale y\nset format y '10^{%L}'\n"
         << "plot 'curves.dat' using 1:5 with lines title 'gradient norm', "
            "'' using 1:4 with lines lw 2 title 'learning rate'\n"
         << "unset multiplot\n";
      write_text_file((dir / "curves.gp").string(), gp.str());
    });
  });
  say(comm, "wrote " + o->out + "\n");
}

}  // namespace scorematch::app
