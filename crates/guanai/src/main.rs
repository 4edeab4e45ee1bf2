fn main() -> std::process::ExitCode {
    guanai::cli::main()
}
