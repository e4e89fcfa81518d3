// Runs every registered CppUnit test (or those whose name contains argv[1])
// and ends with one line "unit: N passed, M failed" that CI adds up.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <iostream>
#include <string>

namespace {

// Keeps the tests whose full name contains `pattern`.
void AddMatching(CppUnit::Test* test, const std::string& pattern, CppUnit::TestRunner* runner) {
    if (test->getChildTestCount() == 0) {
        if (test->getName().find(pattern) != std::string::npos)
            runner->addTest(test);
        return;
    }
    for (int i = 0; i < test->getChildTestCount(); ++i)
        AddMatching(test->getChildTestAt(i), pattern, runner);
}

}  // namespace

int main(int argc, char** argv) {
    std::string pattern = argc > 1 ? argv[1] : "";
    CppUnit::TestRunner runner;
    CppUnit::Test* all = CppUnit::TestFactoryRegistry::getRegistry().makeTest();
    if (pattern.empty())
        runner.addTest(all);
    else
        AddMatching(all, pattern, &runner);

    CppUnit::TestResult controller;
    CppUnit::TestResultCollector result;
    controller.addListener(&result);
    CppUnit::BriefTestProgressListener progress;
    controller.addListener(&progress);
    runner.run(controller);

    CppUnit::CompilerOutputter(&result, std::cerr).write();
    int failed = result.testFailuresTotal();
    int passed = result.runTests() - failed;
    std::cout << "unit: " << passed << " passed, " << failed << " failed" << std::endl;
    return failed == 0 ? 0 : 1;
}
