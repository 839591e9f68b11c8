# Sourced by scripts that launch mpirun: Open MPI refuses root without these, and more ranks
# than cores need oversubscription. (Set here, never baked into CMake.)
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
