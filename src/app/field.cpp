#include "field.hpp"

#include "report.hpp"

namespace scorematch::app {

namespace {
// Data bounds padded by 10% along the two axes, and the data mean as the slice point; returns
// the data (for the picture) and its column names.
Matrix defaults_from_data(const FieldJob& o, GridSpec& g, std::vector<std::string>& columns) {
  const io::DataInfo info = io::probe_data(o.data);
  const Matrix x = io::read_data_rows(info, {0, info.rows});
  columns = info.columns;
  if (x.rows() == 0 || !x.allFinite()) throw Error("'" + o.data + "' has no usable rows");
  if (x.cols() <= std::max(g.axis_x, g.axis_y))
    throw Error("'" + o.data + "' has fewer columns than the chosen --axes");
  auto pad = [&](Index j, double& lo, double& hi) {
    lo = x.col(j).minCoeff();
    hi = x.col(j).maxCoeff();
    const double margin = 0.1 * (hi - lo > 0 ? hi - lo : 1.0);
    lo -= margin;
    hi += margin;
  };
  pad(g.axis_x, g.x_min, g.x_max);
  pad(g.axis_y, g.y_min, g.y_max);
  if (g.through.size() == 0) g.through = x.colwise().mean().transpose();
  return x;
}

std::string field_csv(const GridField& f, const GridSpec& g) {
  std::ostringstream out;
  out.precision(17);
  out << "x,y,energy,log_density,score_x,score_y,divergence\n";
  for (Index k = 0; k < f.points.rows(); ++k) {
    out << f.points(k, g.axis_x) << ',' << f.points(k, g.axis_y) << ',';
    if (f.energy.size() > 0)
      out << f.energy[k] << ',' << f.log_density[k];
    else
      out << ",";
    out << ',' << f.score(k, 0) << ',' << f.score(k, 1) << ',' << f.divergence[k] << '\n';
  }
  return out.str();
}
std::string profile_csv(const Profile& p) {
  std::ostringstream out;
  out.precision(17);
  out << "t,model_potential,model_gradient,data_potential,data_gradient\n";
  for (Index k = 0; k < p.t.size(); ++k) {
    out << p.t[k] << ',';
    if (p.model_potential.size() > 0) out << p.model_potential[k];
    out << ',' << p.model_gradient[k] << ',';
    if (p.data_potential.size() > 0)
      out << p.data_potential[k] << ',' << p.data_gradient[k];
    else
      out << ',';
    out << '\n';
  }
  return out.str();
}

// The 1-D mode: potentials and gradients of model and data along one axis (profile.csv/.json,
// profile.png with --png). Rank 0 evaluates; the others agree on errors.
void run_profile(const dist::Comm& comm, const FieldJob& o) {
  ProfileSpec spec;
  Profile p;
  LoadedScore src;
  Matrix data;
  std::vector<std::string> columns;
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    src = load_score_source(o.model, o.target, o.dim, NoiseScheme::sigma, VpSde{});
    spec.axis = o.profile;
    spec.n = std::max<Index>(o.grid, 2);
    if (!o.through.empty())
      spec.through =
          Eigen::Map<const Vector>(o.through.data(), static_cast<Index>(o.through.size()));
    if (!o.data.empty()) {
      const io::DataInfo info = io::probe_data(o.data);
      data = io::read_data_rows(info, {0, info.rows});
      columns = info.columns;
      if (data.rows() == 0 || !data.allFinite()) throw Error("'" + o.data + "' has no usable rows");
      if (spec.axis >= 0 && spec.axis < data.cols()) {
        const double lo = data.col(spec.axis).minCoeff(), hi = data.col(spec.axis).maxCoeff();
        const double margin = 0.1 * (hi - lo > 0 ? hi - lo : 1.0);
        spec.t_min = lo - margin;
        spec.t_max = hi + margin;
      }
      if (spec.through.size() == 0) spec.through = data.colwise().mean().transpose();
    }
    if (columns.empty() && src.meta.is_object())
      columns = src.meta.value("columns", std::vector<std::string>{});
    if (!o.range.empty()) {
      if (o.range.size() != 2)
        throw SettingError(setting("range") + " takes t_min t_max in the 1-D mode");
      spec.t_min = o.range[0];
      spec.t_max = o.range[1];
    }
    p = evaluate_profile(*src.model, spec, data);
  });
  CollectiveOutput output(comm, o.out);
  const std::string label = spec.axis < static_cast<Index>(columns.size())
                                ? columns[static_cast<std::size_t>(spec.axis)]
                                : "x" + std::to_string(spec.axis + 1);
  dist::run_collectively(comm, [&] {
    if (!comm.is_root() || !o.png) return;
    ProfilePicture pic;
    pic.width = o.png_size[0];
    pic.height = o.png_size[1];
    pic.title = !o.title.empty()   ? o.title
                : !o.model.empty() ? o.model + " (" + src.model->kind() + ")"
                                   : "target " + o.target;
    pic.x_label = label;
    render_profile(output.staged, p, pic);
  });
  nlohmann::json info = {{"source", src.description},
                         {"mode", "profile"},
                         {"axis", spec.axis},
                         {"range", {spec.t_min, spec.t_max}},
                         {"points", spec.n},
                         {"kde_bandwidth", p.bandwidth},
                         {"has_energy", p.model_potential.size() > 0},
                         {"has_data", p.data_potential.size() > 0},
                         {"slice", src.model && src.model->dim() > 1
                                       ? "model curves: the line through 'through' (conditional)"
                                       : "model curves: the 1-D model itself"}};
  if (spec.through.size() > 0)
    info["through"] =
        std::vector<double>(spec.through.data(), spec.through.data() + spec.through.size());
  output.commit(comm, {{"profile.csv", comm.is_root() ? profile_csv(p) : ""},
                       {"profile.json", info.dump(2) + "\n"}});
  say(comm, "profile of " + std::to_string(spec.n) + " points along " + label + " on [" +
                fmt("%g", spec.t_min) + ", " + fmt("%g", spec.t_max) + "]\nwrote " + o.out +
                "/ (profile.csv, profile.json" + (o.png ? ", profile.png, profile.gp" : "") +
                ")\n");
}
}  // namespace

void run_field(const dist::Comm& comm, FieldJob& job) {
  FieldJob* const o = &job;
  if (o->profile >= 0) return run_profile(comm, *o);
  GridSpec g;
  GridField f;
  LoadedScore src;
  Matrix data;
  std::vector<std::string> columns;
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    src = load_score_source(o->model, o->target, o->dim, NoiseScheme::sigma, VpSde{});
    g.axis_x = o->axes[0];
    g.axis_y = o->axes[1];
    g.nx = g.ny = o->grid;
    if (!o->through.empty())
      g.through =
          Eigen::Map<const Vector>(o->through.data(), static_cast<Index>(o->through.size()));
    if (!o->data.empty()) data = defaults_from_data(*o, g, columns);
    if (columns.empty() && src.meta.is_object())
      columns = src.meta.value("columns", std::vector<std::string>{});
    if (o->png && (o->png_size[0] < 200 || o->png_size[1] < 150 || o->png_size[0] > 8000 ||
                   o->png_size[1] > 8000))
      throw SettingError(setting("png-size") +
                         " must lie between 200 x 150 and 8000 x 8000 pixels");
    if (!o->range.empty()) {
      if (o->range.size() != 4)
        throw SettingError(setting("range") + " takes x_min x_max y_min y_max");
      g.x_min = o->range[0];
      g.x_max = o->range[1];
      g.y_min = o->range[2];
      g.y_max = o->range[3];
    }
    f = evaluate_field(*src.model, g);
  });
  CollectiveOutput output(comm, o->out);
  dist::run_collectively(comm, [&] {
    if (!comm.is_root() || !o->png) return;
    FieldPicture pic;
    pic.width = o->png_size[0];
    pic.height = o->png_size[1];
    pic.title = !o->title.empty()   ? o->title
                : !o->model.empty() ? o->model + " (" + src.model->kind() + ")"
                                    : "target " + o->target;
    auto label = [&](Index axis) {
      return axis < static_cast<Index>(columns.size()) ? columns[static_cast<std::size_t>(axis)]
                                                       : "x" + std::to_string(axis + 1);
    };
    pic.x_label = label(g.axis_x);
    pic.y_label = label(g.axis_y);
    render_field(output.staged, f, g, data, pic);
  });
  nlohmann::json info = {{"source", src.description},
                         {"axes", {g.axis_x, g.axis_y}},
                         {"range", {g.x_min, g.x_max, g.y_min, g.y_max}},
                         {"grid", {g.nx, g.ny}},
                         {"cell_area", f.cell_area},
                         {"order", "row k = iy * nx + ix (x fastest)"},
                         {"has_energy", f.energy.size() > 0}};
  if (g.through.size() > 0)
    info["through"] = std::vector<double>(g.through.data(), g.through.data() + g.through.size());
  output.commit(comm, {{"field.csv", comm.is_root() ? field_csv(f, g) : ""},
                       {"field.json", info.dump(2) + "\n"}});
  say(comm, "field of " + std::to_string(g.nx) + " x " + std::to_string(g.ny) + " points on [" +
                fmt("%g", g.x_min) + ", " + fmt("%g", g.x_max) + "] x [" + fmt("%g", g.y_min) +
                ", " + fmt("%g", g.y_max) + "]\nwrote " + o->out + "/ (field.csv, field.json" +
                (o->png ? ", field.png, field.gp" : "") + ")\n");
}

}  // namespace scorematch::app
